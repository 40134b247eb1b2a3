/** @odoo-module **/

import { registry } from "@web/core/registry";
import * as tourUtils from "@website_sale/js/tours/tour_utils";

// A customer linked with LINE puts a product in the cart and leaves the shop.
registry.category("web_tour.tours").add("line_idlink_website_sale_cart_abandon", {
    url: "/shop",
    steps: () => [
        ...tourUtils.addToCart({ productName: "LINE Green Tea", expectUnloadPage: true }),
        tourUtils.goToCart(),
        tourUtils.assertCartContains({ productName: "LINE Green Tea" }),
    ],
});

// Later, the customer opens the reminder's link from LINE: the cart is back.
registry.category("web_tour.tours").add("line_idlink_website_sale_cart_resume", {
    steps: () => [
        tourUtils.assertCartContains({ productName: "LINE Green Tea" }),
        {
            content: "The cart can be checked out",
            trigger: 'a[href^="/shop/checkout"]',
        },
    ],
});
