{
    "name": "LINE Marketing on Sales Orders",
    "version": "18.0.1.0.0",
    "summary": "Quotations and revenues of LINE campaigns; LINE A/B tests won by revenues",
    "category": "Hidden",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["line_idlink_mass_mailing", "line_idlink_sale", "mass_mailing_sale"],
    "installable": True,
    "auto_install": True,
}
