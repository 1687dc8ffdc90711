/* Draws the back-office dashboard's charts (admin/loyalty/dashboard.html) with Chart.js, served from
   loyalty/static/loyalty/vendor/chartjs/. The numbers come from the page's json_script "dashboard-data"; the same
   numbers are in the tables under the charts, so that nothing is lost when this script does not run. */
"use strict";

(function () {
    const source = document.getElementById("dashboard-data");
    if (source === null || typeof window.Chart === "undefined") {
        return;
    }
    const data = JSON.parse(source.textContent);
    const Chart = window.Chart;

    // Follow the admin's light or dark theme.
    const style = getComputedStyle(document.documentElement);
    const cssColour = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
    Chart.defaults.color = cssColour("--body-quiet-color", "#666");
    Chart.defaults.borderColor = cssColour("--hairline-color", "#e8e8e8");
    Chart.defaults.maintainAspectRatio = false;

    const colours = {
        bar: cssColour("--secondary", "#417690"),
        earned: "#2e7d32",
        burned: "#1565c0",
        expired: "#c62828",
    };
    const wholeNumbers = {beginAtZero: true, ticks: {precision: 0}};

    function barChart(canvasId, labels, label, values, horizontal) {
        const canvas = document.getElementById(canvasId);
        if (canvas === null) {
            return;
        }
        new Chart(canvas, {
            type: "bar",
            data: {labels: labels, datasets: [{label: label, data: values, backgroundColor: colours.bar}]},
            options: {
                indexAxis: horizontal ? "y" : "x",
                plugins: {legend: {display: false}},
                scales: horizontal ? {x: wholeNumbers} : {y: wholeNumbers},
            },
        });
    }

    function pointsChart(canvasId, series) {
        const canvas = document.getElementById(canvasId);
        if (canvas === null) {
            return;
        }
        const line = (label, values, colour) => ({
            label: label,
            data: values,
            borderColor: colour,
            backgroundColor: colour,
            // Monotone: the curve never overshoots below zero or above a week's value.
            cubicInterpolationMode: "monotone",
        });
        new Chart(canvas, {
            type: "line",
            data: {
                labels: series.labels,
                datasets: [
                    line("Earned", series.earned, colours.earned),
                    line("Burned", series.burned, colours.burned),
                    line("Expired", series.expired, colours.expired),
                ],
            },
            options: {
                interaction: {mode: "index", intersect: false},
                scales: {y: wholeNumbers},
            },
        });
    }

    barChart("chart-members-per-tier", data.membersPerTier.labels, "Members", data.membersPerTier.members, false);
    pointsChart("chart-points-per-week", data.pointsPerWeek);
    barChart(
        "chart-redemptions-per-coupon",
        data.redemptionsPerCoupon.labels,
        "Redemptions",
        data.redemptionsPerCoupon.redemptions,
        true,
    );
    barChart(
        "chart-enrolments-per-store",
        data.enrolmentsPerStore.labels,
        "Enrolments",
        data.enrolmentsPerStore.enrolments,
        true,
    );
})();
