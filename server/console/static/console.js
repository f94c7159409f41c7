// Console behaviour shared by every page: a visible busy state while a form is sent, confirm
// prompts on destructive buttons, and fetch helpers that carry the page's CSRF token.
"use strict";
(function () {
  const token = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    const ask = button?.dataset.confirm || form.dataset.confirm;
    if (ask && !window.confirm(ask)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.busy === "1") {
      // A second click while the first request is on its way must not send it twice.
      event.preventDefault();
      return;
    }
    form.dataset.busy = "1";
    form.classList.add("busy");
    if (button) {
      button.dataset.label = button.textContent;
      button.textContent = "处理中…";
      // Disabled buttons are not submitted; keep the clicked button's name/value in the form.
      if (button.name) {
        const copy = document.createElement("input");
        copy.type = "hidden";
        copy.name = button.name;
        copy.value = button.value;
        form.appendChild(copy);
      }
      button.disabled = true;
    }
  });

  // Coming back with the browser's back button shows the page from cache: make it usable again.
  window.addEventListener("pageshow", () => {
    document.querySelectorAll("form.busy").forEach((form) => {
      form.dataset.busy = "";
      form.classList.remove("busy");
      form.querySelectorAll("button[disabled]").forEach((b) => {
        b.disabled = false;
        if (b.dataset.label) b.textContent = b.dataset.label;
      });
    });
  });

  window.wangge = {
    csrfToken: token,
    /** JSON from a console endpoint; throws an Error whose message is the server's Chinese one. */
    async json(url, options = {}) {
      const headers = { Accept: "application/json", "X-CSRF-Token": token(), ...(options.headers || {}) };
      let response;
      try {
        response = await fetch(url, { credentials: "same-origin", ...options, headers });
      } catch (err) {
        throw new Error("网络连接失败，请检查网络后重试");
      }
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        throw new Error(body?.error?.message || body?.message || `请求失败（${response.status}）`);
      }
      return body;
    },
  };
})();
