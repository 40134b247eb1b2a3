{
    "name": "LINE Marketing",
    "version": "18.0.1.0.0",
    "summary": "LINE campaigns from Email Marketing: mailings of type LINE, segments, A/B tests, "
               "tracked links, opt-out",
    "category": "Marketing/Email Marketing",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["line_idlink_addon", "mass_mailing"],
    "data": [
        "data/utm.xml",
        "data/ir_cron_data.xml",
        "security/ir.model.access.csv",
        "views/mailing_trace_views.xml",
        "report/mailing_trace_report_views.xml",
        "views/mailing_mailing_views.xml",
        "views/res_partner_views.xml",
        "views/utm_campaign_views.xml",
        "views/portal_templates.xml",
        "wizard/mailing_line_test_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "line_idlink_mass_mailing/static/tests/tours/*.js",
        ],
    },
    "installable": True,
    "auto_install": True,
}
