{
    "name": "LINE ID Link - Loyalty",
    "version": "18.0.1.0.0",
    "summary": "Loyalty points in the LINE chat, points notices and a LIFF digital member card",
    "description": """
LINE ID Link bridge for Odoo Loyalty: the linked menu's ポイント and 会員証 buttons answer with the
customer's own loyalty and eWallet cards, points changes are notified in LINE (through the
outgoing queue), and a LIFF page shows the digital member card (barcode and QR code of the member
number, points, tier, expiry) after verifying LINE's ID token (ES256, LINE's JWKS).
""",
    "category": "Sales/Loyalty",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["line_idlink_addon", "loyalty"],
    "data": [
        "security/ir.model.access.csv",
        "security/line_loyalty_security.xml",
        "views/line_channel_views.xml",
        "views/loyalty_program_views.xml",
        "views/res_partner_views.xml",
        "views/liff_card_templates.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "line_idlink_loyalty/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "auto_install": True,
}
