from lxml import html
from markupsafe import Markup

from odoo import models
from odoo.tools import safe_eval


class MailTemplate(models.Model):
    _inherit = "mail.template"

    def _render_template_qweb(self, template_src, model, res_ids, add_context=None,
                              options=None):
        """Odoo parses and compiles a QWeb body again for every record it renders; with
        ``line_qweb_compile_once`` in the context (the abandoned-cart cron renders thousands of
        carts with one template) the body is compiled once and the compiled template runs per
        record, with the same evaluation context and values as Odoo's ``ir.qweb._render``.
        Restricted rendering (a user who is not a template editor), a single record and
        templates Odoo renders without QWeb (``{{ }}`` field paths only) keep Odoo's path, and
        so does a record whose rendering fails (for Odoo's error)."""
        restricted = (not self._unrestricted_rendering and not self.env.is_admin()
                      and not self.env.user.has_group("mail.group_mail_template_editor"))
        if (not self.env.context.get("line_qweb_compile_once") or restricted
                or not template_src or len(res_ids) < 2
                or not self._has_unsafe_expression_template_qweb(template_src, model)):
            return super()._render_template_qweb(template_src, model, res_ids,
                                                 add_context=add_context, options=options)
        variables = self._render_eval_context()
        variables.update(add_context or {})
        qweb = self.env["ir.qweb"].with_context(**(options or {}))
        element = html.fragment_fromstring(template_src, create_parent="div")
        functions = None
        results = {}
        for record in self.env[model].browse(res_ids):
            values = dict(variables, object=record)
            record_qweb = qweb._prepare_environment(values)
            safe_eval.check_values(values)
            try:
                if functions is None:
                    functions, def_name = record_qweb._compile(element)
                rendered = Markup("".join(functions[def_name](record_qweb, values)))
            except Exception:  # noqa: BLE001 - Odoo's own path raises its error
                return super()._render_template_qweb(template_src, model, res_ids,
                                                     add_context=add_context, options=options)
            # without the <div> that wraps the body's nodes into one, as Odoo does
            results[record.id] = rendered[5:-6]
        return results
