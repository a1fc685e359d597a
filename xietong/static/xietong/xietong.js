// Small behaviours without inline scripts (the CSP forbids them).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) el.form.submit();
});

// Tick every row checkbox of a table from its header checkbox (data-check-all="name").
document.addEventListener("change", (event) => {
  const el = event.target;
  if (!(el instanceof HTMLInputElement) || !el.dataset.checkAll) return;
  document.querySelectorAll(`input[type=checkbox][name="${el.dataset.checkAll}"]`).forEach((box) => {
    box.checked = el.checked;
  });
});

// ECharts: each <div data-chart="ID"> is drawn from the JSON in <script id="ID" type="application/json">.
function drawCharts() {
  if (!window.echarts) return;
  document.querySelectorAll("[data-chart]").forEach((el) => {
    const data = document.getElementById(el.dataset.chart);
    if (!data || el.dataset.drawn) return;
    const chart = window.echarts.init(el);
    chart.setOption(JSON.parse(data.textContent));
    el.dataset.drawn = "1";
    window.addEventListener("resize", () => chart.resize());
  });
}
document.addEventListener("DOMContentLoaded", drawCharts);
document.addEventListener("htmx:afterSettle", drawCharts);
