import re
import unicodedata

from odoo import api, fields, models

# what separates two keywords in the field: ASCII, full-width and Japanese commas
SEPARATORS = re.compile(r"[,，、]")


def normalize_keyword(text):
    """How a chat message and a keyword are compared: NFKC (full-width letters and digits are
    plain ones), trimmed, case-insensitive."""
    if not isinstance(text, str):
        return ""
    return unicodedata.normalize("NFKC", text).strip().casefold()


class LineChatKeyword(models.Model):
    """A channel's own chat keywords for one action, instead of the defaults in code
    (``line.channel._line_default_keywords``): a text message equal to one of them (trimmed,
    case-insensitive) triggers the action as its rich-menu button would. ``keywords`` is
    comma-separated and translatable (customers get the words of their language); an empty value
    turns the action's keyword off on this channel."""

    _name = "line.chat.keyword"
    _description = "LINE Chat Keywords"
    _order = "channel_id, action"

    channel_id = fields.Many2one("line.channel", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="channel_id.company_id")
    action = fields.Selection(selection="_selection_action", required=True,
                              help="What the keywords do: the action of the rich-menu button of "
                                   "the same name.")
    keywords = fields.Char(translate=True,
                           help="Comma-separated words a customer sends to trigger the action "
                                "(trimmed, case-insensitive). Empty: no keyword for this action.")

    _sql_constraints = [("channel_action_uniq", "unique(channel_id, action)",
                         "A channel has one keyword list per action.")]

    @api.model
    def _selection_action(self):
        """The rich-menu postback presets (bridges add theirs with ``selection_add``), without
        "custom": a keyword triggers an action the addons answer."""
        field = self.env["line.rich.menu.area"]._fields["postback_preset"]
        return [(value, label) for value, label in field._description_selection(self.env)
                if value != "custom"]

    def _line_keyword_list(self):
        """The normalized keywords of this record (empty list: the action has none)."""
        self.ensure_one()
        words = (normalize_keyword(word) for word in SEPARATORS.split(self.keywords or ""))
        return [word for word in words if word]
