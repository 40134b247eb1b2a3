/** @odoo-module **/

import { registry } from "@web/core/registry";

// Bring the README pages into view; tests/test_screenshots.py captures them at the end.
const tours = registry.category("web_tour.tours");

tours.add("line_idlink_screen_settings", {
    steps: () => [
        { trigger: ".o_form_view .o_field_widget[name=line_channel_id]" },
        { trigger: ".o_form_view .o_field_widget[name=webhook_url]" },
    ],
});

tours.add("line_idlink_screen_partner", {
    steps: () => [
        { trigger: ".o_notebook_headers a:contains('LINE')", run: "click" },
        { trigger: ".o_field_widget[name=line_identity_ids] .o_data_row:contains('Aiko LINE')" },
    ],
});

tours.add("line_idlink_screen_portal", {
    url: "/my/line",
    steps: () => [
        { trigger: ".o_line_identity:contains('Aiko LINE')" },
        { trigger: ".o_line_login_link" },
    ],
});
