/** @odoo-module **/

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A marketer creates a LINE mailing on a segment (a mailing list), sees the preview bubble and
// the cost, sends a test to their own LINE account, then sends the mailing.
registry.category("web_tour.tours").add("line_idlink_mass_mailing_campaign", {
    steps: () => [
        {
            content: "Title",
            trigger: "div[name=subject] input",
            run: "edit Summer on LINE",
        },
        {
            content: "Recipients: the segment's mailing list",
            trigger: "#contact_list_ids_0",
            run: "edit LINE fans",
        },
        {
            trigger: ".o_input_dropdown a:contains(LINE fans)",
            run: "click",
        },
        {
            content: "Open the LINE content",
            trigger: ".o_notebook_headers a:contains('LINE Content')",
            run: "click",
        },
        {
            content: "Write the message",
            trigger: "div[name=line_body] textarea",
            run: "edit Summer sale starts today!",
        },
        {
            content: "Leave the text field: the form computes the length, preview and cost",
            trigger: "div[name=line_text_length]",
            run: "click",
        },
        {
            trigger: "div[name=line_text_length]:contains(25)",
        },
        {
            content: "The preview bubble shows it",
            trigger: ".o_line_bubble:contains('Summer sale starts today!')",
        },
        {
            content: "The cost: 2 messages of the quota left",
            trigger: ".o_line_quota:contains('2 messages of the 100 left')",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_renderer.o_form_saved",
        },
        {
            content: "Test it on my own LINE account",
            trigger: "button[name=action_test]",
            run: "click",
        },
        {
            trigger: ".modal div[name=identity_name]:contains('Mika LINE')",
        },
        {
            content: "Send the test",
            trigger: ".modal button[name=action_send_line]",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Send the mailing",
            trigger: "button[name=action_put_in_queue]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The mailing waits for Odoo's mailing cron",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('In Queue')",
        },
    ],
});

// The marketer reads the statistics of the sent mailing.
registry.category("web_tour.tours").add("line_idlink_mass_mailing_statistics", {
    steps: () => [
        {
            content: "Everyone processed",
            trigger: ".o_line_mailing_progress:contains('3 / 3')",
        },
        {
            content: "Sent",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Sent')",
        },
        // with more modules installed the button box folds its extra stat buttons into "More"
        // (Odoo's own step: opens that dropdown when there is one)
        stepUtils.autoExpandMoreButtons(),
        {
            content: "Who received it: the two linked friends of the list (not Chika)",
            trigger: "button[name=action_view_delivered]",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Aiko') ~ .o_data_row:contains('Bunta')",
        },
        {
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Chika')))",
        },
    ],
});

// The sent mailing's form, for the README screenshot.
registry.category("web_tour.tours").add("line_idlink_mass_mailing_screen", {
    steps: () => [
        {
            trigger: ".o_line_mailing_progress:contains('3 / 3')",
        },
        {
            content: "Open the LINE content",
            trigger: ".o_notebook_headers a:contains('LINE Content')",
            run: "click",
        },
        {
            trigger: ".o_line_bubble:contains('Summer sale starts today!')",
        },
    ],
});
