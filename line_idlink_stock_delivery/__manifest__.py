{
    "name": "LINE ID Link - Delivery Tracking",
    "version": "18.0.1.0.0",
    "summary": "The carrier's tracking reference and tracking link in the shipping notice on LINE",
    "category": "Inventory/Delivery",
    "author": "LINE ID Link",
    "license": "LGPL-3",
    "depends": ["line_idlink_sale_stock", "stock_delivery"],
    "data": [],
    "installable": True,
    "auto_install": True,
}
