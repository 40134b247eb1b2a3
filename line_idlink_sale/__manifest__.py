{
    "name": "LINE ID Link - Sales",
    "version": "18.0.1.0.0",
    "summary": "Orders, invoices and balance in the LINE chat; order and invoice notices on LINE; "
               "purchase-history segments",
    "category": "Sales",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["line_idlink_addon", "sale", "account"],
    "data": [
        "security/ir.model.access.csv",
        "security/line_notice_template_security.xml",
        "data/line_notice_template_data.xml",
        "data/ir_cron_data.xml",
        "views/line_notice_template_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_partner_views.xml",
    ],
    "installable": True,
    "auto_install": True,
}
