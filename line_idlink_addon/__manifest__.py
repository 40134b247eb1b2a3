{
    "name": "LINE ID Link",
    "version": "18.0.1.0.0",
    "summary": "Link customers with their LINE accounts (ID連携): webhook, account link, portal, unlink",
    "category": "Marketing",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["mail", "portal", "auth_signup", "web"],
    "external_dependencies": {"python": ["line-idlink", "line-bot-sdk", "PyJWT"]},
    "data": [
        "security/line_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/line_channel_views.xml",
        "views/line_identity_views.xml",
        "views/line_webhook_event_views.xml",
        "wizard/line_send_message_views.xml",
        "views/res_partner_views.xml",
        "views/line_menus.xml",
        "views/portal_templates.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "line_idlink_addon/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "application": True,
}
