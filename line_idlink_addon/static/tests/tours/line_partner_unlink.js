/** @odoo-module **/

import { registry } from "@web/core/registry";

// A LINE user of the back office opens a linked customer and unlinks LINE from the LINE tab.
registry.category("web_tour.tours").add("line_idlink_partner_unlink", {
    steps: () => [
        {
            content: "Open the LINE tab",
            trigger: ".o_notebook_headers a:contains('LINE')",
            run: "click",
        },
        {
            content: "The linked LINE account is shown",
            trigger: ".o_field_widget[name=line_identity_ids] .o_data_row:contains('Aiko LINE') button[name=action_unlink_line]",
            run: "click",
        },
        {
            content: "Confirm the unlink",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The row stays as history, without the Unlink button",
            trigger: ".o_field_widget[name=line_identity_ids] .o_data_row:contains('Aiko LINE'):not(:has(button[name=action_unlink_line]))",
        },
    ],
});
