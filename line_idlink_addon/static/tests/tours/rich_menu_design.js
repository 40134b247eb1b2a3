/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// An administrator designs a rich menu in the area editor, publishes it and makes it the menu of
// linked customers; tests/test_rich_menu_tour.py checks the LINE user's menu afterwards.

/** Upload ``url`` through the file input of the binary field ``root`` (a real change event). */
async function uploadFile(root, url, name) {
    const blob = await (await fetch(url)).blob();
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], name, { type: blob.type }));
    const input = root.querySelector("input[type=file]");
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
}

/** Drag on the editor's image from one point to another, given as fractions of its size. */
export function dragOnImage(svg, [x0, y0], [x1, y1]) {
    const box = svg.getBoundingClientRect();
    const at = (fx, fy) => ({
        clientX: box.left + fx * box.width,
        clientY: box.top + fy * box.height,
        button: 0,
        pointerId: 1,
        bubbles: true,
    });
    svg.dispatchEvent(new PointerEvent("pointerdown", at(x0, y0)));
    svg.dispatchEvent(new PointerEvent("pointermove", at((x0 + x1) / 2, (y0 + y1) / 2)));
    svg.dispatchEvent(new PointerEvent("pointermove", at(x1, y1)));
    svg.dispatchEvent(new PointerEvent("pointerup", at(x1, y1)));
}

function openConfigMenu(xmlid) {
    return [
        {
            content: "Open LINE → Configuration",
            trigger: ".o_menu_sections button[data-menu-xmlid='line_idlink_addon.line_menu_config']",
            run: "click",
        },
        {
            trigger: `.dropdown-item[data-menu-xmlid='${xmlid}']`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("line_idlink_rich_menu_design", {
    steps: () => [
        ...stepUtils.goToAppSteps("line_idlink_addon.line_menu_root", "Open the LINE app"),
        ...openConfigMenu("line_idlink_addon.line_menu_rich_menus"),
        {
            content: "Create a rich menu",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Members menu",
        },
        {
            trigger: ".o_field_widget[name=channel_id] input",
            run: "edit Test OA",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Test OA')",
            run: "click",
        },
        {
            content: "Upload the menu image",
            trigger: ".o_field_widget[name=image]",
            async run() {
                await uploadFile(this.anchor, "/line_idlink_addon/static/img/richmenu_unlinked.png",
                                 "members.png");
            },
        },
        {
            content: "The image sets the half-size preset",
            trigger: ".o_field_widget[name=height]:contains('843')",
        },
        {
            content: "The editor shows the image, no area yet",
            trigger: ".o_line_rich_menu_editor:has(.o_line_rm_canvas image) .o_line_rm_counter:contains('0 / 20 areas')",
        },
        {
            content: "Draw the left half of the image",
            trigger: ".o_line_rm_canvas.o_line_rm_drawable",
            run() {
                dragOnImage(this.anchor, [0, 0], [0.5, 1]);
            },
        },
        {
            content: "A new area row has the drawn bounds",
            trigger: ".o_data_row.o_selected_row.o_line_rm_selected_row .o_field_widget[name=width] input",
            run() {
                if (this.anchor.value.replace(/\D/g, "") !== "1250") {
                    throw new Error(`the drawn area is ${this.anchor.value} px wide, not 1250`);
                }
            },
        },
        {
            trigger: ".o_line_rm_counter:contains('1 / 20 areas')",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=label] input",
            run: "edit 連携解除",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=postback_preset] select",
            run: "selectByLabel Unlink account",
        },
        {
            content: "The rectangle is labelled",
            trigger: ".o_line_rm_area[data-number='1']:not(.o_line_rm_invalid) text:contains('1. 連携解除')",
        },
        {
            content: "Draw a second area over the first one",
            trigger: ".o_line_rm_canvas.o_line_rm_drawable",
            run() {
                dragOnImage(this.anchor, [0.25, 0.1], [0.75, 0.9]);
            },
        },
        {
            content: "Both are red and the overlap is explained",
            trigger: ".o_line_rm_problems li:contains('Areas 1 and 2 overlap.')",
        },
        {
            trigger: ".o_line_rm_area.o_line_rm_invalid[data-number='1'] ~ .o_line_rm_area.o_line_rm_invalid[data-number='2']",
        },
        {
            trigger: ".o_line_rm_counter:contains('2 / 20 areas')",
        },
        {
            content: "Delete the second area",
            trigger: ".o_data_row.o_line_rm_selected_row .o_list_record_remove",
            run: "click",
        },
        {
            trigger: ".o_line_rich_menu_editor:not(:has(.o_line_rm_problems)) .o_line_rm_counter:contains('1 / 20 areas')",
        },
        {
            content: "Move the area out of the image",
            trigger: ".o_data_row:contains('連携解除') .o_data_cell[name=x]",
            run: "click",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=x] input",
            run: "edit 2000 && press Tab",
        },
        {
            trigger: ".o_line_rm_area.o_line_rm_invalid[data-number='1']",
        },
        {
            trigger: ".o_line_rm_problems li:contains('Area 1 is outside the 2500 × 843 px image.')",
        },
        {
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=x] input",
            run: "edit 0 && press Tab",
        },
        {
            trigger: ".o_line_rich_menu_editor:not(:has(.o_line_rm_problems)) .o_line_rm_area[data-number='1']:not(.o_line_rm_invalid)",
        },
        ...stepUtils.saveForm(),
        {
            content: "Publish on LINE",
            trigger: ".o_form_statusbar button[name=action_publish]",
            run: "click",
        },
        {
            content: "Published: LINE gave it an id",
            trigger: ".o_field_widget[name=line_rich_menu_id]:contains('richmenu-')",
        },
        {
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Published')",
        },
        ...openConfigMenu("line_idlink_addon.line_menu_rich_menu_rules"),
        {
            content: "Add a rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_selected_row .o_field_widget[name=name] input",
            run: "edit Linked customers",
        },
        {
            trigger: ".o_selected_row .o_field_widget[name=channel_id] input",
            run: "edit Test OA",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Test OA')",
            run: "click",
        },
        {
            trigger: ".o_selected_row .o_field_widget[name=role] select",
            run: "selectByLabel Linked customers",
        },
        {
            trigger: ".o_selected_row .o_field_widget[name=rich_menu_id] input",
            run: "edit Members",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Members menu')",
            run: "click",
        },
        {
            trigger: ".o_list_button_save",
            run: "click",
        },
        {
            content: "The rule is saved",
            trigger: ".o_data_row:not(.o_selected_row):contains('Members menu')",
        },
    ],
});

/** The ``g.o_line_rm_area`` of the editor whose caption contains ``label``. */
function areaLabelled(editor, label) {
    return [...editor.querySelectorAll(".o_line_rm_area")].find((area) =>
        area.querySelector("text").textContent.includes(label)
    );
}

// Bring the ready-made linked menu's area editor into view for the README screenshot. The menu
// has the base's buttons (連携解除 first, 連携設定 last) and those of the installed bridges in
// between: nothing here depends on how many there are.
registry.category("web_tour.tours").add("line_idlink_rich_menu_screen", {
    steps: () => [
        {
            content: "Every button of the ready-made menu is an area, none is wrong",
            trigger: ".o_line_rich_menu_editor:not(:has(.o_line_rm_problems)) .o_line_rm_counter:contains(' / 20 areas')",
            run() {
                const editor = this.anchor.closest(".o_line_rich_menu_editor");
                const drawn = editor.querySelectorAll(".o_line_rm_area").length;
                if (!drawn || this.anchor.textContent.trim() !== `${drawn} / 20 areas`) {
                    throw new Error(`${drawn} areas drawn, the counter says ${this.anchor.textContent}`);
                }
            },
        },
        {
            trigger: ".o_line_rm_area[data-number='1'] text:contains('連携解除')",
        },
        {
            content: "The settings area is the last one",
            trigger: ".o_line_rm_area:last-of-type text:contains('連携設定')",
        },
        {
            content: "Wait for the image, then scroll the editor to the top",
            trigger: ".o_line_rich_menu_editor:not(:has(.o_line_rm_problems)) .o_line_rm_canvas image",
            async run() {
                const image = new Image();
                image.src = this.anchor.getAttribute("href");
                await image.decode();
                this.anchor.closest(".o_line_rich_menu_editor").scrollIntoView({ block: "start" });
            },
        },
        {
            content: "Click in the middle of the settings area: its row is selected",
            trigger: ".o_line_rm_canvas",
            run() {
                const { width, height } = this.anchor.viewBox.baseVal;
                const rect = areaLabelled(this.anchor, "連携設定").querySelector("rect");
                const [x, y, w, h] = ["x", "y", "width", "height"].map((name) =>
                    Number(rect.getAttribute(name))
                );
                const middle = [(x + w / 2) / width, (y + h / 2) / height];
                dragOnImage(this.anchor, middle, middle);
            },
        },
        {
            trigger: ".o_data_row.o_selected_row.o_line_rm_selected_row .o_field_widget[name=label] input:value(連携設定)",
        },
        {
            trigger: ".o_line_rm_area.o_line_rm_selected text:contains('連携設定')",
        },
        {
            content: "Nothing is loading any more",
            trigger: "body:not(:has(.o_loading_indicator))",
        },
    ],
});
