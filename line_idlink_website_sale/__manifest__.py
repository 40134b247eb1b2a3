{
    "name": "LINE ID Link - eCommerce",
    "version": "18.0.1.0.0",
    "summary": "Abandoned-cart reminders and back-in-stock messages on LINE, LINE Login at "
               "checkout and on the order confirmation",
    "category": "Website/Website",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["line_idlink_addon", "website_sale", "website_sale_stock"],
    "data": [
        "security/ir.model.access.csv",
        "security/line_stock_notification_security.xml",
        "data/mail_template_data.xml",
        "data/ir_cron_data.xml",
        "views/sale_order_views.xml",
        "views/res_config_settings_views.xml",
        "views/website_sale_templates.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "line_idlink_website_sale/static/src/js/*.js",
            "line_idlink_website_sale/static/src/xml/*.xml",
        ],
        "web.assets_tests": [
            "line_idlink_website_sale/static/tests/tours/*.js",
        ],
    },
    "auto_install": True,
    "installable": True,
}
