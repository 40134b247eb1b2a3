/** @odoo-module **/

import { registry } from "@web/core/registry";

// A linked portal customer unlinks LINE from "My Account > LINE".
registry.category("web_tour.tours").add("line_idlink_portal_unlink", {
    url: "/my/line",
    steps: () => [
        {
            content: "The linked LINE account is listed",
            trigger: ".o_line_identity:contains('Aiko LINE') .badge:contains('Linked')",
        },
        {
            content: "The page says unlinking is always possible",
            trigger: ".o_line_unlink_notice",
        },
        {
            content: "Ask to unlink",
            trigger: ".o_line_identity .o_line_unlink",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".o_line_unlink_confirm",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Unlinked: confirmation and the not-linked state",
            trigger: ".o_line_unlinked_ok",
        },
        {
            trigger: ".o_line_not_linked",
        },
    ],
});
