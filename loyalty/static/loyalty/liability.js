/* Draws the points liability chart (admin/loyalty/points_liability.html) with Chart.js, as dashboard.js draws the
   dashboard's: spendable and pending points stacked by month of expiry. The numbers come from the page's
   json_script "liability-data"; the same numbers are in the table under the chart. */
"use strict";

(function () {
    const source = document.getElementById("liability-data");
    const canvas = document.getElementById("chart-liability-by-expiry");
    if (source === null || canvas === null || typeof window.Chart === "undefined") {
        return;
    }
    const data = JSON.parse(source.textContent);
    const Chart = window.Chart;
    const style = getComputedStyle(document.documentElement);
    const cssColour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    Chart.defaults.color = cssColour("--body-quiet-color", "#666");
    Chart.defaults.borderColor = cssColour("--hairline-color", "#e8e8e8");
    Chart.defaults.maintainAspectRatio = false;
    new Chart(canvas, {
        type: "bar",
        data: {
            labels: data.labels,
            datasets: [
                {label: "Spendable", data: data.spendable, backgroundColor: cssColour("--secondary", "#417690")},
                {label: "Pending", data: data.pending, backgroundColor: "#f0a500"},
            ],
        },
        options: {
            // A report is read, and printed: drawn at once, not grown into place.
            animation: false,
            interaction: {mode: "index", intersect: false},
            scales: {x: {stacked: true}, y: {stacked: true, ticks: {precision: 0}}},
        },
    });
})();
