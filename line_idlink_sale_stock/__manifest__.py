{
    "name": "LINE ID Link - Sales and Delivery",
    "version": "18.0.1.0.0",
    "summary": "Shipping notices on LINE (with the carrier's tracking link) and the delivery "
               "state in the chat's order list",
    "category": "Sales",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["line_idlink_sale", "sale_stock"],
    "data": [
        "data/line_notice_template_data.xml",
        "views/res_config_settings_views.xml",
    ],
    "installable": True,
    "auto_install": True,
}
