// Admin pages: show the department select only for department staff, and add or remove
// rows of the ledger field editor. Without script the department select stays visible and
// the editor keeps its few blank rows.
"use strict";
(function () {
  document.querySelectorAll("select[data-role-select]").forEach((select) => {
    const department = select.form?.querySelector("[data-department]");
    if (!department) return;
    const sync = () => {
      // Labels and buttons are display:flex/inline-block in console.css, which beats [hidden].
      department.style.display = select.value === "department_staff" ? "" : "none";
    };
    select.addEventListener("change", sync);
    sync();
  });

  const rows = document.querySelector("[data-field-rows]");
  const template = document.querySelector("template[data-field-row-template]");
  if (rows && template) {
    // The server names the types that take options (ledger/ledgers/fields.py CHOICE_TYPES).
    const choiceTypes = new Set((rows.dataset.choiceTypes || "").split(" "));
    // Row inputs are named f-<n>-key…; a new row takes the next unused number.
    let next = 0;
    rows.querySelectorAll("input[name$='-key']").forEach((input) => {
      const n = Number(input.name.split("-")[1]);
      if (n >= next) next = n + 1;
    });
    const wire = (row) => {
      // Options only mean something for choice types: keep the box out of the way otherwise.
      const type = row.querySelector("[data-field-type]");
      const options = row.querySelector("[data-field-options]");
      if (type && options) {
        const sync = () => {
          options.style.visibility = choiceTypes.has(type.value) ? "" : "hidden";
        };
        type.addEventListener("change", sync);
        sync();
      }
      const remove = row.querySelector("[data-remove-row]");
      if (!remove) return;
      remove.style.display = "";
      remove.addEventListener("click", () => {
        const errors = row.nextElementSibling;
        if (errors?.classList.contains("row-errors")) errors.remove();
        row.remove();
      });
    };
    rows.querySelectorAll("tr.field-row").forEach(wire);
    const add = document.querySelector("[data-add-row]");
    if (add) {
      add.style.display = "";
      add.addEventListener("click", () => {
        rows.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__i__", String(next++)));
        const row = rows.lastElementChild;
        wire(row);
        row.querySelector("input")?.focus();
      });
    }
  }
})();
