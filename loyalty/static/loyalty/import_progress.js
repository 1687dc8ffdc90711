/* An import job's page (admin/loyalty/importjob/change_form.html): while the job runs, ask its status URL every
   second and move the progress bar and the counts; when it has finished, show the "Import these rows" button. */
"use strict";

(function () {
    const section = document.getElementById("import-progress");
    if (section === null || section.dataset.finished === "true") {
        return;
    }
    const byId = (id) => document.getElementById(id);
    function show(status) {
        byId("import-progress-bar").value = status.percent;
        byId("import-progress-text").textContent =
            status.rows_done + " of " + status.rows_total + " rows (" + status.percent + "%)";
        byId("import-status").textContent = status.status_display;
        byId("import-created").textContent = status.created;
        byId("import-updated").textContent = status.updated;
        byId("import-rejected").textContent = status.rejected;
        if (status.error) {
            byId("import-error").textContent = status.error;
            byId("import-error").style.display = "";
        }
        const runForm = byId("import-run-form");
        if (status.is_finished && runForm !== null && status.status === "succeeded") {
            runForm.hidden = false;
        }
    }
    function poll() {
        fetch(section.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
            .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
            .then((status) => {
                show(status);
                if (!status.is_finished) {
                    window.setTimeout(poll, 1000);
                } else if (status.rejected > 0) {
                    // The rejected rows' table is rendered by the page: load it once the job is done.
                    window.location.reload();
                }
            })
            .catch(() => window.setTimeout(poll, 5000));
    }
    poll();
})();
