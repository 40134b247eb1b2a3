"""Password login, sign-up and logout for the reference shop (what LINE linking hangs on)."""

from .web import csrf_field, escape, page, redirect, safe_next


def pending_line_notice(session):
    """Say so when logging in will also link a LINE account (a "log in with LINE" of an unknown
    LINE user, kept in this session): nobody should link one by surprise on a shared device."""
    pending = session.get("pending_line")
    if not pending:
        return ""
    return (f'<div class="notice"><p>ログイン（または新規登録）すると、LINEアカウント'
            f'「{escape(pending.get("name") or "LINE")}」と連携します。</p>'
            f'<form method="post" action="/logout">{csrf_field(session)}'
            '<button>このLINEアカウントと連携しない</button></form></div>')


def login_form(session, next_url, error=None, email=""):
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    notice += pending_line_notice(session)
    return f"""{notice}
<form method="post" action="/login">{csrf_field(session)}
<input type="hidden" name="next" value="{escape(next_url)}">
<label>メールアドレス <input name="email" type="email" value="{escape(email)}" required></label>
<label>パスワード <input name="password" type="password" required></label>
<button>ログイン</button></form>
<p>アカウントをお持ちでない方は <a href="/signup?next={escape(next_url)}">新規登録</a></p>
<p><a class="line" href="/line/login?purpose=login&amp;next={escape(next_url)}">LINEでログイン</a></p>"""


def login(app, request, session):
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return page("ログイン", login_form(session, next_url), session)
    if not session.csrf_ok(request.form.get("csrf_token")):
        return page("ログイン", login_form(session, next_url, "The form expired: try again."),
                    session, status=400)
    customer = app.db.authenticate(request.form.get("email"), request.form.get("password"))
    if customer is None:
        return page("ログイン", login_form(session, next_url, "メールアドレスまたはパスワードが違います。",
                                          request.form.get("email", "")), session, status=401)
    session.login(customer["id"])
    app.after_login(session)
    return redirect(next_url)


def signup(app, request, session):
    next_url = safe_next(request.values.get("next"))
    error = None
    if request.method == "POST":
        if not session.csrf_ok(request.form.get("csrf_token")):
            error = "The form expired: try again."
        else:
            try:
                customer = app.db.create_customer(request.form.get("email"),
                                                  request.form.get("name"),
                                                  request.form.get("password"))
            except ValueError as exc:
                error = str(exc)
            else:
                session.login(customer["id"])
                app.after_login(session)
                return redirect(next_url)
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    notice += pending_line_notice(session)
    body = f"""{notice}<form method="post" action="/signup">{csrf_field(session)}
<input type="hidden" name="next" value="{escape(next_url)}">
<label>お名前 <input name="name" required></label>
<label>メールアドレス <input name="email" type="email" required></label>
<label>パスワード (8文字以上) <input name="password" type="password" required></label>
<button>登録する</button></form>"""
    return page("新規登録", body, session, status=400 if error else 200)


def logout(app, request, session):
    # POST with the CSRF token only: logs out, and drops a pending LINE link (the login page's
    # "cancel"); a GET changes nothing (another site could not cancel or log anyone out)
    if request.method == "POST" and session.csrf_ok(request.form.get("csrf_token")):
        session.logout()
    return redirect("/login")
