/** @odoo-module **/

import { registry } from "@web/core/registry";

// The order confirmation page offers to link LINE.
registry.category("web_tour.tours").add("line_idlink_website_sale_screen_confirmation", {
    steps: () => [
        {
            content: "The call-to-action to link LINE",
            trigger: ".o_line_confirmation_cta a.o_line_confirmation_link[href='/shop/confirmation/line']",
        },
    ],
});

// A salesperson reminds an abandoned cart on LINE from the order form.
registry.category("web_tour.tours").add("line_idlink_website_sale_send_on_line", {
    steps: () => [
        {
            content: "Odoo's recovery e-mail button is there",
            trigger: "button[name='action_recovery_email_send']",
        },
        {
            content: "Send on LINE, beside it",
            trigger: "button[name='action_recovery_line_send']",
            run: "click",
        },
        {
            content: "Queued",
            trigger: ".o_notification:contains('Reminder queued on LINE')",
        },
    ],
});
