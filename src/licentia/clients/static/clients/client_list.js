// The clients list: once two clients or more are ticked, the «Объединить» button appears beside
// the actions and runs the merge of the ticked ones.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
    const button = document.querySelector(".lc-merge-button");
    const form = document.getElementById("changelist-form");
    if (!button || !form) {
        return;
    }
    const choice = form.querySelector("select[name=action]");
    const action = button.dataset.action;
    if (!choice || !choice.querySelector(`option[value="${action}"]`)) {
        return; // the user may not merge
    }
    const show = () => {
        const ticked = form.querySelectorAll("input.action-select:checked").length;
        button.hidden = ticked < 2;
    };
    form.addEventListener("change", show);
    form.addEventListener("click", () => window.setTimeout(show, 0));
    button.addEventListener("click", () => {
        choice.value = action;
        form.requestSubmit();
    });
    show();
});
