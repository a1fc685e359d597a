"""Template filters naming the region group's nodes: ``{{ transfer.sending_node|node_name }}`` shows
天津节点 where the record keeps ``tj``, so that pages people read never show a node id."""

from __future__ import annotations

from django import template

from ..selectors import node_name as registry_name

register = template.Library()


@register.filter
def node_name(node_id: object) -> str:
    """The node's name from the registry (one indexed query; for detail pages, not long lists)."""
    return registry_name(node_id) if node_id else ""
