/* The LIFF member card page (views/liff_card_templates.xml). A plain script, not an Odoo
 * module: it must run in LINE's in-app browser as soon as the LIFF SDK is there.
 *
 * 1. liff.init({liffId}); in an external browser without a LINE session: liff.login() (LINE
 *    comes back to this page).
 * 2. liff.getIDToken(): the raw ID token, never the decoded profile (LINE forbids sending
 *    that to a server).
 * 3. POST it (JSON-RPC) to the page's data URL; show the card, the link button or the refusal.
 */
(function () {
    "use strict";
    const root = document.querySelector(".o_line_liff_card");
    if (!root) {
        return;
    }
    const $ = (selector, node) => (node || root).querySelector(selector);
    const show = (selector) => {
        $(".o_line_card_loading").classList.add("d-none");
        $(selector).classList.remove("d-none");
    };

    function renderCard(data) {
        $(".o_line_card_name").textContent = data.name || "";
        const list = $(".o_line_card_list");
        const template = $(".o_line_card_template");
        if (!data.cards.length) {
            $(".o_line_card_none").classList.remove("d-none");
        }
        for (const card of data.cards) {
            const node = template.content.firstElementChild.cloneNode(true);
            $(".o_line_card_program", node).textContent = card.program;
            $(".o_line_card_points", node).textContent = card.points_display;
            const tier = $(".o_line_card_tier", node);
            tier.textContent = card.tier || "";
            tier.classList.toggle("d-none", !card.tier);
            $(".o_line_card_number", node).textContent = card.code;
            $(".o_line_card_expiry", node).textContent =
                card.expiration_date || $(".o_line_card_no_expiry").textContent;
            $(".o_line_card_barcode", node).src = card.barcode_url;
            $(".o_line_card_qr", node).src = card.qr_url;
            list.appendChild(node);
        }
        show(".o_line_card_member");
    }

    async function post(idToken) {
        const response = await fetch(root.dataset.dataUrl, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            credentials: "same-origin",
            body: JSON.stringify({ jsonrpc: "2.0", method: "call", id: 1,
                                   params: { id_token: idToken } }),
        });
        const body = await response.json();
        if (body.error || !body.result) {
            throw new Error("the member card server answered an error");
        }
        return body.result;
    }

    async function start() {
        if (typeof window.liff === "undefined") {
            throw new Error("the LIFF SDK did not load");
        }
        await window.liff.init({ liffId: root.dataset.liffId });
        if (!window.liff.isLoggedIn()) {
            // an external browser: LINE Login, then back here (LIFF keeps the deep link)
            window.liff.login({ redirectUri: window.location.href });
            return;
        }
        const result = await post(window.liff.getIDToken());
        if (result.status === "card") {
            renderCard(result);
        } else if (result.status === "not_linked") {
            $(".o_line_card_link").href = result.link_url;
            show(".o_line_card_unlinked");
        } else {
            $(".o_line_card_refused").textContent = result.message;
            show(".o_line_card_refused");
        }
    }

    start().catch((error) => {
        console.warn("LINE member card:", error.message);
        show(".o_line_card_sdk_error");
    });
})();
