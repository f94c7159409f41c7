// Ledger pages: start an export without leaving the page and follow its progress bar to the
// download link; job pages poll their own JSON instead of reloading themselves.
"use strict";
(function () {
  const POLL_MS = 1000;
  const RETRIES = 5;

  /** Poll a job until it ends, updating the box's bar and status line; then call done(job). */
  function watch(box, url, done) {
    const bar = box.querySelector("#job-progress");
    const status = box.querySelector("#job-status");
    const error = box.querySelector("#job-error");
    let failures = 0;
    async function tick() {
      let job;
      try {
        job = await window.wangge.json(url);
      } catch (err) {
        // A dropped connection is retried a few times before the page gives up.
        failures += 1;
        if (failures > RETRIES) {
          error.textContent = err.message;
          error.hidden = false;
          return;
        }
        setTimeout(tick, POLL_MS * 2 * failures);
        return;
      }
      failures = 0;
      error.hidden = true;
      bar.value = job.percent;
      bar.textContent = `${job.percent}%`;
      status.textContent = job.message;
      status.classList.toggle("error", job.status === "failed");
      if (job.finished) {
        done(job);
        return;
      }
      setTimeout(tick, POLL_MS);
    }
    tick();
  }

  const form = document.getElementById("export-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      // The progress bar below is this form's busy state, not console.js's.
      event.stopPropagation();
      const button = form.querySelector("#export-start");
      const box = document.getElementById("export-job");
      const bar = box.querySelector("#job-progress");
      const status = box.querySelector("#job-status");
      const error = box.querySelector("#job-error");
      const link = box.querySelector("#job-download");
      button.disabled = true;
      bar.value = 0;
      status.textContent = "正在提交导出请求…";
      status.classList.remove("error");
      error.hidden = true;
      link.hidden = true;
      box.hidden = false;
      try {
        const started = await window.wangge.json(form.action, { method: "POST", body: new FormData(form) });
        watch(box, started.url, (job) => {
          button.disabled = false;
          if (job.download_url) {
            link.href = job.download_url;
            link.hidden = false;
            link.focus();
          }
        });
      } catch (err) {
        status.textContent = "";
        error.textContent = err.message;
        error.hidden = false;
        button.disabled = false;
      }
    });
  }

  const page = document.querySelector("#job[data-job-url]");
  if (page && !["done", "failed"].includes(page.dataset.status)) {
    // The finished page carries the download link or the import's report: load it once.
    watch(page, page.dataset.jobUrl, () => window.location.reload());
  }
})();
