/** @odoo-module **/

import { WebsiteSale } from "@website_sale/js/website_sale";
import { rpc } from "@web/core/network/rpc";

// "Notify me on LINE" / "Cancel" on a sold-out product page (logged-in customers linked with
// LINE; the server checks both again).
WebsiteSale.include({
    events: Object.assign({}, WebsiteSale.prototype.events, {
        "click .o_line_stock_notify": "_onClickLineStockNotify",
        "click .o_line_stock_notify_cancel": "_onClickLineStockNotifyCancel",
    }),

    async _lineStockNotification(ev, route, subscribed) {
        ev.preventDefault();
        const box = ev.currentTarget.closest(".o_line_stock_notification");
        const error = box.querySelector(".o_line_stock_error");
        error.classList.add("d-none");
        try {
            await rpc(route, { product_id: parseInt(ev.currentTarget.dataset.productId) });
        } catch (e) {
            error.textContent = e.data?.message || e.message || "";
            error.classList.remove("d-none");
            return;
        }
        box.querySelector(".o_line_stock_notify").classList.toggle("d-none", subscribed);
        box.querySelector(".o_line_stock_notified").classList.toggle("d-none", !subscribed);
    },

    _onClickLineStockNotify(ev) {
        return this._lineStockNotification(ev, "/shop/line/stock_notification", true);
    },

    _onClickLineStockNotifyCancel(ev) {
        return this._lineStockNotification(ev, "/shop/line/stock_notification/cancel", false);
    },
});
