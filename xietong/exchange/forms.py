"""Forms of the exchange app: they check shapes; the actions check meaning."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xietong.core.forms import BootstrapFormMixin


class NodeEntryForm(BootstrapFormMixin, forms.Form):
    """The hub registers a node from the entry its ``xietong node init`` wrote (node-entry.json)."""

    entry = forms.CharField(
        label=_("节点名册条目"),
        widget=forms.Textarea(attrs={"rows": 7, "placeholder": '{"node_id": "tj", "name": "天津节点", …}'}),
        help_text=_("粘贴该节点 var/node-entry.json 的内容"),
    )

    def clean_entry(self) -> dict[str, Any]:
        try:
            entry = json.loads(self.cleaned_data["entry"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("不是有效的 JSON：%(error)s") % {"error": exc}) from None
        missing = [
            key
            for key in ("node_id", "name", "endpoint", "public_key")
            if not isinstance(entry, dict) or not entry.get(key)
        ]
        if missing:
            raise forms.ValidationError(_("条目缺少：%(keys)s") % {"keys": "、".join(missing)})
        return {
            key: str(entry.get(key, ""))
            for key in ("node_id", "name", "endpoint", "public_key", "region_code")
        }
