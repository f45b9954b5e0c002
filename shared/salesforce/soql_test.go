package salesforce_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/salesforce/sfsim"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want, wantLike string
	}{
		{"plain", "Acme", "Acme", "Acme"},
		{"single quote", "Bob's BBQ", `Bob\'s BBQ`, `Bob\'s BBQ`},
		{"double quote", `say "hi"`, `say \"hi\"`, `say \"hi\"`},
		{"backslash", `a\b`, `a\\b`, `a\\b`},
		{"newline", "a\nb", `a\nb`, `a\nb`},
		{"carriage return", "a\rb", `a\rb`, `a\rb`},
		{"tab", "a\tb", `a\tb`, `a\tb`},
		{"backspace", "a\bb", `a\bb`, `a\bb`},
		{"form feed", "a\fb", `a\fb`, `a\fb`},
		{"wildcards", "50%_off", "50%_off", `50\%\_off`},
		{"injection attempt", `x' OR Name != '`, `x\' OR Name != \'`, `x\' OR Name != \'`},
		{"non-ASCII", "Zoë 日本", "Zoë 日本", "Zoë 日本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := salesforce.Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := salesforce.EscapeLike(tt.in); got != tt.wantLike {
				t.Errorf("EscapeLike(%q) = %q, want %q", tt.in, got, tt.wantLike)
			}
			if got := salesforce.Quote(tt.in); got != "'"+tt.want+"'" {
				t.Errorf("Quote(%q) = %q", tt.in, got)
			}
		})
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr bool
	}{
		{"nil", nil, "null", false},
		{"string", "O'Hara", `'O\'Hara'`, false},
		{"list", []string{"a", "b'c"}, `('a','b\'c')`, false},
		{"empty list", []string{}, "", true},
		{"bool", true, "true", false},
		{"int", 42, "42", false},
		{"int64", int64(-7), "-7", false},
		{"uint8", uint8(7), "7", false},
		{"float", 2.5, "2.5", false},
		{"large float without exponent", 1e21, "1000000000000000000000", false},
		{"NaN", math.NaN(), "", true},
		{"time in UTC", time.Date(2026, 11, 21, 11, 0, 0, 5e8, time.FixedZone("CET", 3600)), "2026-11-21T10:00:00Z", false},
		{"unsupported", struct{}{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := salesforce.Literal(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Literal(%v) = %q, %v; want %q, err %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !apperr.Is(err, apperr.Invalid) {
				t.Errorf("error code = %s, want invalid", apperr.CodeOf(err))
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name     string
		template string
		args     []any
		want     string
		wantErr  bool
	}{
		{"placeholders", "SELECT Id FROM User WHERE Username = ? AND IsActive = ?", []any{"a'b@x.com", true},
			`SELECT Id FROM User WHERE Username = 'a\'b@x.com' AND IsActive = true`, false},
		{"IN list", "SELECT Id FROM Case WHERE OwnerId IN ?", []any{[]string{"005A", "005B"}}, "SELECT Id FROM Case WHERE OwnerId IN ('005A','005B')", false},
		{"? inside a template literal is text", `SELECT Id FROM Case WHERE Subject = 'why?\'?' AND Status = ?`, []any{"New"},
			`SELECT Id FROM Case WHERE Subject = 'why?\'?' AND Status = 'New'`, false},
		{"too few arguments", "SELECT Id FROM Case WHERE A = ? AND B = ?", []any{1}, "", true},
		{"too many arguments", "SELECT Id FROM Case WHERE A = ?", []any{1, 2}, "", true},
		{"unterminated literal", "SELECT Id FROM Case WHERE A = 'x", nil, "", true},
		{"bad argument", "SELECT Id FROM Case WHERE A = ?", []any{math.Inf(1)}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := salesforce.Format(tt.template, tt.args...)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Format = %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBuilder(t *testing.T) {
	tests := []struct {
		name    string
		b       *salesforce.Builder
		want    string
		wantErr string
	}{
		{"full", salesforce.Select("Id", "Owner.Name").From("Case").
			Where("Status = ?", "New").Where("OwnerId IN ? OR Priority = ?", []string{"005A"}, "High").
			OrderByDesc("CreatedDate").OrderBy("Id").Limit(10),
			`SELECT Id, Owner.Name FROM Case WHERE (Status = 'New') AND (OwnerId IN ('005A') OR Priority = 'High') ORDER BY CreatedDate DESC, Id ASC LIMIT 10`, ""},
		{"count", salesforce.Select("COUNT()").From("AuthSession"), "SELECT COUNT() FROM AuthSession", ""},
		{"field injection", salesforce.Select("Id FROM User --").From("Case"), "", "not a valid field name"},
		{"object injection", salesforce.Select("Id").From("Case WHERE Id != null"), "", "not a valid object name"},
		{"order injection", salesforce.Select("Id").From("Case").OrderBy("Id; DROP"), "", "not a valid field name"},
		{"too deep", salesforce.Select("A.B.C.D.E.F.G").From("Case"), "", "more than 5 relationship hops"},
		{"no FROM", salesforce.Select("Id"), "", "no FROM object"},
		{"no fields", salesforce.Select().From("Case"), "", "no fields selected"},
		{"negative limit", salesforce.Select("Id").From("Case").Limit(-1), "", "negative limit"},
		{"bad where argument", salesforce.Select("Id").From("Case").Where("Id IN ?", []string{}), "", "empty IN list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.b.Build()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Build() = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Build() = %q, %v\nwant %q", got, err, tt.want)
			}
		})
	}
}

func TestCheckIdentifiers(t *testing.T) {
	valid := []string{"Id", "Owner.Name", "Omnibridge_Presence_Command__e", "ns__Field__c", "Account__r.Owner.Name"}
	invalid := []string{"", "1Id", "Id ", "Owner..Name", ".Name", "Name.", "Bad_", "a-b", "Id'", "Name__c)"}
	for _, s := range valid {
		if err := salesforce.CheckField(s); err != nil {
			t.Errorf("CheckField(%q) = %v", s, err)
		}
	}
	for _, s := range invalid {
		if err := salesforce.CheckField(s); err == nil {
			t.Errorf("CheckField(%q) accepted", s)
		}
	}
	if err := salesforce.CheckObject("Owner.Name"); err == nil {
		t.Error("CheckObject accepted a dotted name")
	}
}

// lexLiterals is an independent SOQL lexer for string literals, written from Salesforce's list of
// escape sequences: it returns the query with every literal replaced by '?', and the decoded
// literals. In a LIKE pattern (like set), unescaped % and _ decode to the markers \x00% and \x00_
// so that wildcards can be told from escaped characters.
func lexLiterals(q string, like bool) (skeleton string, lits []string, err error) {
	var sk strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] != '\'' {
			sk.WriteByte(q[i])
			continue
		}
		var lit strings.Builder
		i++
		for ; ; i++ {
			if i >= len(q) {
				return "", nil, fmt.Errorf("unterminated literal")
			}
			c := q[i]
			if c == '\'' {
				break
			}
			if like && (c == '%' || c == '_') {
				lit.WriteByte(0)
				lit.WriteByte(c)
				continue
			}
			if c != '\\' {
				lit.WriteByte(c)
				continue
			}
			i++
			if i >= len(q) {
				return "", nil, fmt.Errorf("dangling backslash")
			}
			switch e := q[i]; e {
			case 'n', 'N':
				lit.WriteByte('\n')
			case 'r', 'R':
				lit.WriteByte('\r')
			case 't', 'T':
				lit.WriteByte('\t')
			case 'b', 'B':
				lit.WriteByte('\b')
			case 'f', 'F':
				lit.WriteByte('\f')
			case '\'', '"', '\\':
				lit.WriteByte(e)
			case '%', '_':
				if !like {
					return "", nil, fmt.Errorf("LIKE escape outside LIKE")
				}
				lit.WriteByte(e)
			default:
				return "", nil, fmt.Errorf("invalid escape \\%c", e)
			}
		}
		lits = append(lits, lit.String())
		sk.WriteString("?")
	}
	return sk.String(), lits, nil
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "Bob's BBQ", `\`, `\'`, "' OR Id != null OR Name = '", "a\nb\r\t\b\f\"", "50%_off", "\xff\xfe", "日本"} {
		f.Add(s)
	}
	const prefix, suffix = "SELECT Id FROM Case WHERE Subject = ", " AND Status != null"
	f.Fuzz(func(t *testing.T, s string) {
		q := prefix + salesforce.Quote(s) + suffix
		skel, lits, err := lexLiterals(q, false)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if skel != prefix+"?"+suffix || len(lits) != 1 || lits[0] != s {
			t.Fatalf("query %q lexes as %q with literals %q; want one literal %q", q, skel, lits, s)
		}

		// Inside a LIKE pattern, every byte of s is literal and only the appended % is a wildcard.
		q = "SELECT Id FROM Case WHERE Subject LIKE '" + salesforce.EscapeLike(s) + "%'"
		_, lits, err = lexLiterals(q, true)
		if err != nil || len(lits) != 1 || lits[0] != s+"\x00%" {
			t.Fatalf("LIKE query %q lexes as %q, %v", q, lits, err)
		}

		// Format places the same literal.
		got, err := salesforce.Format(prefix+"?"+suffix, s)
		if err != nil || got != prefix+salesforce.Quote(s)+suffix {
			t.Fatalf("Format = %q, %v", got, err)
		}
	})
}

// FuzzQuoteAgainstSim checks the escaping against the simulator's own SOQL lexer, through the
// real client and HTTP: the quoted value must select exactly the record holding it.
func FuzzQuoteAgainstSim(f *testing.F) {
	for _, s := range []string{"Bob's BBQ", `C:\temp\`, "' OR Subject != '", "a\nb\tc\"d", "50% off_sale", "Zoë"} {
		f.Add(s)
	}
	e := newEnv(f, sfsim.Config{})
	c := e.client(f)
	id, err := c.Create(f.Context(), "Case", map[string]any{"Subject": "seed"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := c.Create(f.Context(), "Case", map[string]any{"Subject": "decoy"}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.EqualFold(s, "decoy") {
			return // JSON cannot carry invalid UTF-8; the decoy must not match by design
		}
		if err := c.Update(t.Context(), "Case", id, map[string]any{"Subject": s}); err != nil {
			t.Fatal(err)
		}
		soql, err := salesforce.Select("Id", "Subject").From("Case").Where("Subject = ?", s).Build()
		if err != nil {
			t.Fatal(err)
		}
		var got []salesforce.Record
		for r, err := range c.Query(t.Context(), soql) {
			if err != nil {
				t.Fatalf("%s: %v", soql, err)
			}
			got = append(got, r)
		}
		if len(got) != 1 || got[0]["Subject"] != s {
			t.Fatalf("%s selected %v, want exactly the record with Subject %q", soql, got, s)
		}
	})
}

func ExampleFormat() {
	soql, err := salesforce.Format("SELECT Id FROM User WHERE Username = ? AND Id IN ?",
		"o'brien@example.com", []string{"005xx000001SwiUAAS", "005xx000001SwiVAAS"})
	fmt.Println(soql, err)
	// Output: SELECT Id FROM User WHERE Username = 'o\'brien@example.com' AND Id IN ('005xx000001SwiUAAS','005xx000001SwiVAAS') <nil>
}

func ExampleSelect() {
	soql, err := salesforce.Select("Id", "UsersId", "LastModifiedDate").
		From("AuthSession").
		Where("SessionType = ?", "UI").
		Where("LastModifiedDate > ?", time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)).
		OrderBy("LastModifiedDate").
		Build()
	fmt.Println(soql, err)
	// Output: SELECT Id, UsersId, LastModifiedDate FROM AuthSession WHERE (SessionType = 'UI') AND (LastModifiedDate > 2026-11-21T10:00:00Z) ORDER BY LastModifiedDate ASC <nil>
}
