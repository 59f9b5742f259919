package report

import "strings"

// mdParty writes a party as "Name (ODS), contact".
func mdParty(p Party) string {
	s := mdText(p.Name)
	if p.ODS != "" {
		if s != "" {
			s += " "
		}
		s += "(" + string(p.ODS) + ")"
	}
	if p.Contact != "" {
		s += ", " + mdText(p.Contact)
	}
	return s
}

// mdEscaper escapes the characters Markdown would read as markup.
var mdEscaper = strings.NewReplacer("\\", "\\\\", "*", "\\*", "_", "\\_", "`", "\\`", "[", "\\[", "]", "\\]", "<", "&lt;", ">", "&gt;", "#", "\\#")

// mdText flattens text to one line and escapes markup.
func mdText(s string) string {
	return mdEscaper.Replace(strings.Join(strings.Fields(s), " "))
}

// mdCell is mdText for a table cell.
func mdCell(s string) string { return strings.ReplaceAll(mdText(s), "|", "\\|") }

// mdList writes a section of the given title listing items.
func mdList(b *strings.Builder, title string, items []string) {
	b.WriteString("\n### " + title + "\n\n")
	for _, s := range items {
		b.WriteString("- " + mdText(s) + "\n")
	}
}
