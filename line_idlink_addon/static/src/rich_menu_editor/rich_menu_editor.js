/** @odoo-module **/

import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { isBinarySize } from "@web/core/utils/binary";
import { imageUrl } from "@web/core/utils/urls";
import { fileTypeMagicWordMap } from "@web/views/fields/image/image_field";
import { X2ManyField, x2ManyField } from "@web/views/fields/x2many/x2many_field";
import { useEffect, useRef, useState } from "@odoo/owl";

import { MAX_AREAS, dragBounds, findProblems } from "./area_geometry";

// A drag shorter than this (screen pixels) is a click that selects an area.
const CLICK_SLOP = 6;
const PRESET_SIZES = { full: [2500, 1686], half: [2500, 843] };

/**
 * The tap areas of a rich menu drawn over its image, above the usual one2many list.
 *
 * It is the x2many field itself (set on ``area_ids``), so a drawn area goes through the same
 * "Add a line" path as the list's button (``onAdd`` with ``default_*`` values) and the rows it
 * draws are the very records the list edits: editing a row redraws its rectangle.
 */
export class RichMenuEditorField extends X2ManyField {
    static template = "line_idlink_addon.RichMenuEditorField";

    setup() {
        super.setup();
        this.svgRef = useRef("svg");
        this.rootRef = useRef("root");
        this.editor = useState({ selectedId: null, drag: null });
        // Highlight the selected area's row in the list below.
        useEffect(
            (selectedId) => {
                const root = this.rootRef.el;
                for (const row of root?.querySelectorAll(".o_data_row") || []) {
                    row.classList.toggle("o_line_rm_selected_row", row.dataset.id === selectedId);
                }
            },
            () => [this.selectedId, this.list.records.length]
        );
    }

    // ---------------------------------------------------------------------------------- model
    get menu() {
        return this.props.record.data;
    }

    get size() {
        const [width, height] = PRESET_SIZES[this.menu.size_preset] || [0, 0];
        return { width: this.menu.width || width || 2500, height: this.menu.height || height || 1686 };
    }

    get imageUrl() {
        const image = this.menu.image;
        if (!image) {
            return null;
        }
        if (isBinarySize(image)) {
            return imageUrl(this.props.record.resModel, this.props.record.resId, "image", {
                unique: this.menu.write_date,
            });
        }
        return `data:image/${fileTypeMagicWordMap[image[0]] || "png"};base64,${image}`;
    }

    get areas() {
        return this.list.records.map((rec, index) => ({
            id: rec.id,
            number: index + 1,
            x: rec.data.x || 0,
            y: rec.data.y || 0,
            width: rec.data.width || 0,
            height: rec.data.height || 0,
            caption: `${index + 1}. ${this.describe(rec)}`,
        }));
    }

    /** The label a user reads aloud, else what the tap does. */
    describe(rec) {
        const selectionLabel = (field) => {
            const options = rec.fields[field]?.selection || [];
            return options.find(([key]) => key === rec.data[field])?.[1];
        };
        if (rec.data.label) {
            return rec.data.label;
        }
        if (rec.data.action_type === "postback" && rec.data.postback_preset) {
            return selectionLabel("postback_preset") || rec.data.postback_preset;
        }
        return selectionLabel("action_type") || rec.data.action_type || "";
    }

    /** Rows edited inline: the selected area is the row being edited. */
    get editsInline() {
        return Boolean(this.rendererProps.editable);
    }

    get selectedId() {
        return this.editsInline ? this.list.editedRecord?.id || null : this.editor.selectedId;
    }

    /** The numbered areas, the ids of those drawn in red, and what is wrong with them. */
    get report() {
        const areas = this.areas;
        const { width, height } = this.size;
        const { empty, outside, overlapping } = findProblems(areas, { width, height });
        const bad = new Set([...empty, ...outside, ...overlapping.flat()].map((area) => area.id));
        const messages = [
            ...empty.map(({ number }) => _t("Area %(number)s has no width or height.", { number })),
            ...outside.map(({ number }) =>
                _t("Area %(number)s is outside the %(width)s × %(height)s px image.", {
                    number,
                    width,
                    height,
                })
            ),
            ...overlapping.map(([a, b]) =>
                _t("Areas %(first)s and %(second)s overlap.", { first: a.number, second: b.number })
            ),
        ];
        if (areas.length > MAX_AREAS) {
            messages.push(_t("LINE allows at most %s areas per rich menu.", MAX_AREAS));
        }
        return { areas, bad, messages };
    }

    get counterText() {
        return _t("%(count)s / %(max)s areas", { count: this.list.records.length, max: MAX_AREAS });
    }

    get tooMany() {
        return this.list.records.length > MAX_AREAS;
    }

    get canDraw() {
        return !this.props.readonly && this.list.records.length < MAX_AREAS;
    }

    get fontSize() {
        return Math.max(24, Math.round(this.size.width / 45));
    }

    // ------------------------------------------------------------------------------- pointer
    /** The pointer position in image pixels. */
    toImage(ev) {
        const box = this.svgRef.el.getBoundingClientRect();
        const { width, height } = this.size;
        return {
            x: ((ev.clientX - box.left) * width) / box.width,
            y: ((ev.clientY - box.top) * height) / box.height,
            clientX: ev.clientX,
            clientY: ev.clientY,
        };
    }

    onPointerDown(ev) {
        if (ev.button !== 0) {
            return;
        }
        try {
            // Keep receiving the drag when the pointer leaves the image.
            ev.currentTarget.setPointerCapture(ev.pointerId);
        } catch {
            // synthetic events (tours) have no active pointer to capture
        }
        const start = this.toImage(ev);
        this.editor.drag = { start, end: start };
    }

    onPointerMove(ev) {
        if (this.editor.drag && this.canDraw) {
            this.editor.drag.end = this.toImage(ev);
        }
    }

    async onPointerUp(ev) {
        const drag = this.editor.drag;
        if (!drag) {
            return;
        }
        this.editor.drag = null;
        const end = this.toImage(ev);
        const moved = Math.hypot(end.clientX - drag.start.clientX, end.clientY - drag.start.clientY);
        if (moved < CLICK_SLOP || !this.canDraw) {
            await this.selectAt(end);
            return;
        }
        const bounds = dragBounds(drag.start.x, drag.start.y, end.x, end.y, this.size);
        if (bounds.width && bounds.height) {
            await this.addArea(bounds);
        }
    }

    get draftBounds() {
        const drag = this.editor.drag;
        if (!drag || drag.start === drag.end) {
            return null;
        }
        return dragBounds(drag.start.x, drag.start.y, drag.end.x, drag.end.y, this.size);
    }

    /** Select the topmost (last drawn) area under the point, or none. */
    async selectAt({ x, y }) {
        const hit = this.areas
            .filter((a) => x >= a.x && x < a.x + a.width && y >= a.y && y < a.y + a.height)
            .pop();
        this.editor.selectedId = hit ? hit.id : null;
        if (hit && this.editsInline) {
            await this.list.enterEditMode(this.list.records.find((rec) => rec.id === hit.id));
        }
    }

    async addArea(bounds) {
        const before = new Set(this.list.records.map((rec) => rec.id));
        const editable = this.rendererProps.editable ? "bottom" : false;
        await this.onAdd({
            context: {
                default_x: bounds.x,
                default_y: bounds.y,
                default_width: bounds.width,
                default_height: bounds.height,
            },
            editable,
        });
        // (a list edited inline selects the new row by itself)
        const added = this.list.records.find((rec) => !before.has(rec.id));
        this.editor.selectedId = added ? added.id : null;
    }
}

export const richMenuEditorField = {
    ...x2ManyField,
    component: RichMenuEditorField,
    displayName: _t("Rich menu area editor"),
    supportedTypes: ["one2many"],
    fieldDependencies: [
        { name: "image", type: "binary" },
        { name: "width", type: "integer" },
        { name: "height", type: "integer" },
        { name: "size_preset", type: "selection" },
        { name: "write_date", type: "datetime" },
    ],
};

registry.category("fields").add("line_rich_menu_editor", richMenuEditorField);
