"use strict";
// The calendar button of a date box (core/moments.py): opens the browser's calendar at the
// box's date and writes the picked day as 15.03.2025, keeping a time typed after the date.
(function () {
    const DAY = /^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})/;

    function parts(box) {
        return {
            text: box.querySelector(".lc-moment-input"),
            picker: box.querySelector(".lc-moment-picker"),
        };
    }

    document.addEventListener("click", (event) => {
        const button = event.target.closest(".lc-moment-button");
        if (!button) {
            return;
        }
        const { text, picker } = parts(button.closest(".lc-moment"));
        const day = DAY.exec(text.value);
        picker.value = day
            ? `${day[3]}-${day[2].padStart(2, "0")}-${day[1].padStart(2, "0")}`
            : "";
        try {
            picker.showPicker();
        } catch (error) {
            picker.focus();
        }
    });

    document.addEventListener("change", (event) => {
        const picker = event.target;
        if (!picker.classList || !picker.classList.contains("lc-moment-picker") || !picker.value) {
            return;
        }
        const { text } = parts(picker.closest(".lc-moment"));
        const [year, month, day] = picker.value.split("-");
        const time = DAY.test(text.value) ? text.value.replace(DAY, "").trim() : "";
        text.value = `${day}.${month}.${year}${time ? ` ${time}` : ""}`;
        text.dispatchEvent(new Event("change", { bubbles: true }));
    });
})();
