/** @odoo-module **/

import { registry } from "@web/core/registry";

// The LIFF member card with the mock LIFF SDK and an ID token issued by the LINE emulator
// (tests/test_liff_tour.py). The card of the linked customer: name, member number (with its
// barcode and QR code), points and tier.
registry.category("web_tour.tours").add("line_idlink_loyalty_liff_card", {
    steps: () => [
        {
            content: "The verified customer's name",
            trigger: ".o_line_card_name:contains('Aiko Customer')",
        },
        {
            content: "The member number",
            trigger: ".o_line_card .o_line_card_number:contains('LINE-A-0001')",
        },
        {
            content: "The points in the program's own point name",
            trigger: ".o_line_card .o_line_card_points:contains('1250 pt')",
        },
        {
            content: "The tier from the program's thresholds",
            trigger: ".o_line_card .o_line_card_tier:contains('Silver')",
        },
        {
            content: "The member number as a barcode and a QR code (Odoo's barcode route)",
            trigger: ".o_line_card img.o_line_card_barcode[src*='barcode_type=Code128'][src*='LINE-A-0001']",
        },
        {
            trigger: ".o_line_card img.o_line_card_qr[src*='barcode_type=QR']",
        },
        {
            content: "Nobody else's card",
            trigger: ".o_line_card_list:not(:has(.o_line_card_number:contains('LINE-B')))",
        },
    ],
});

// An external browser without a LINE session: the page asks LIFF to log in with LINE and to
// come back to this very page (the deep link survives the login).
registry.category("web_tour.tours").add("line_idlink_loyalty_liff_external", {
    steps: () => [
        {
            content: "liff.login() was called with the card page as redirectUri",
            trigger: "body[data-liff-mock-login*='/line/liff/card/']",
        },
        {
            content: "Nothing about anyone is shown",
            trigger: ".o_line_liff_card:not(:has(.o_line_card_member:not(.d-none)))",
        },
    ],
});

// A LINE user who is not linked: no card, the button to link with LINE Login.
registry.category("web_tour.tours").add("line_idlink_loyalty_liff_unlinked", {
    steps: () => [
        {
            content: "The link button",
            trigger: ".o_line_card_unlinked a.o_line_card_link[href*='/line/liff/card/']",
        },
        {
            content: "No card is shown",
            trigger: ".o_line_liff_card:not(:has(.o_line_card_member:not(.d-none)))",
        },
    ],
});
