/* A stand-in for LINE's LIFF SDK (https://static.line-scdn.net/liff/edge/2/sdk.js) for offline
 * tests, in the spirit of LINE's @line/liff-mock: set a channel's "LIFF SDK URL" to
 * /line_idlink_loyalty/static/tests/liff_mock_sdk.js.
 *
 * The ID token is a real one, issued by the LINE emulator (the test asks it for one) and given
 * to the page as the query parameter `liff_mock_id_token` (kept in sessionStorage so that it
 * survives navigation, as LINE's session does); an empty `liff_mock_id_token=` logs out. Without
 * a token the user is "not logged in" and liff.login() records its redirectUri on <body>.
 * Implemented: liff.init, liff.ready, liff.isLoggedIn, liff.getIDToken, liff.login,
 * liff.logout, liff.isInClient, liff.getOS, liff.id.
 */
(function () {
    "use strict";
    const KEY = "liff_mock_id_token";
    const params = new URLSearchParams(window.location.search);
    if (params.get(KEY)) {
        window.sessionStorage.setItem(KEY, params.get(KEY));
    } else if (params.has(KEY)) {  // `?liff_mock_id_token=`: logged out (an external browser)
        window.sessionStorage.removeItem(KEY);
    }
    let resolveReady;
    const token = () => window.sessionStorage.getItem(KEY);
    const liff = {
        id: null,
        loginCalls: [],
        ready: new Promise((resolve) => { resolveReady = resolve; }),
        init(config) {
            if (!config || !config.liffId) {
                return Promise.reject(new Error("liffId is necessary for liff.init()"));
            }
            liff.id = config.liffId;
            resolveReady();
            return Promise.resolve();
        },
        isLoggedIn: () => Boolean(token()),
        getIDToken: () => token(),
        login(config) {
            // the real SDK goes to LINE Login and back to redirectUri; the mock records it
            liff.loginCalls.push(config || {});
            document.body.dataset.liffMockLogin = (config && config.redirectUri) || "";
        },
        logout() {
            window.sessionStorage.removeItem(KEY);
        },
        isInClient: () => true,
        getOS: () => "web",
    };
    window.liff = liff;
})();
