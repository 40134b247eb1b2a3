/** @odoo-module **/

// Pure geometry of rich-menu tap areas (image pixels), kept apart from the widget so the rules
// read on their own. LINE rejects a menu whose areas leave the image; overlapping areas are
// accepted by LINE but a tap then hits whichever it finds first, so the editor flags them too.

export const MAX_AREAS = 20; // LINE's limit per rich menu

/** The bounds of a drag from (x0, y0) to (x1, y1), clamped to the image and rounded. */
export function dragBounds(x0, y0, x1, y1, size) {
    const clamp = (v, max) => Math.round(Math.min(Math.max(v, 0), max));
    const left = clamp(Math.min(x0, x1), size.width);
    const top = clamp(Math.min(y0, y1), size.height);
    return {
        x: left,
        y: top,
        width: clamp(Math.max(x0, x1), size.width) - left,
        height: clamp(Math.max(y0, y1), size.height) - top,
    };
}

export function isEmpty(area) {
    return area.width <= 0 || area.height <= 0;
}

export function isOutside(area, size) {
    return (
        area.x < 0 ||
        area.y < 0 ||
        area.x + area.width > size.width ||
        area.y + area.height > size.height
    );
}

export function overlaps(a, b) {
    return (
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
    );
}

/** ``{empty: [area], outside: [area], overlapping: [[a, b]]}`` for the numbered areas. */
export function findProblems(areas, size) {
    const empty = areas.filter(isEmpty);
    const outside = areas.filter((area) => !isEmpty(area) && isOutside(area, size));
    const overlapping = [];
    areas.forEach((a, i) => {
        for (const b of areas.slice(i + 1)) {
            if (!isEmpty(a) && !isEmpty(b) && overlaps(a, b)) {
                overlapping.push([a, b]);
            }
        }
    });
    return { empty, outside, overlapping };
}
