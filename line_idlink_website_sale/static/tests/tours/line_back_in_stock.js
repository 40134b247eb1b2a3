/** @odoo-module **/

import { registry } from "@web/core/registry";

// A customer linked with LINE asks to be told on LINE when a sold-out product is back.
registry.category("web_tour.tours").add("line_idlink_website_sale_back_in_stock", {
    steps: () => [
        {
            content: "The product is sold out",
            trigger: "#out_of_stock_message",
        },
        {
            content: "Ask to be notified on LINE",
            trigger: ".o_line_stock_notify",
            run: "click",
        },
        {
            content: "The shop confirms",
            trigger: ".o_line_stock_notified:not(.d-none)",
        },
        {
            content: "The button is gone",
            trigger: ".o_line_stock_notification:has(.o_line_stock_notify.d-none)",
        },
    ],
});
