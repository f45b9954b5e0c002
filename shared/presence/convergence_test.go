package presence

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/rules"
)

var seedFlag = flag.Uint64("seed", 0, "run the convergence test with this seed only")

// scenario is a rule set under test with what it implies.
type scenario struct {
	name     string
	set      *rules.Set
	settings config.Settings
	// implied returns the state the other system must end in after side is set to state, or
	// false when the rules leave the other system alone. Nil for rule sets that are meant to
	// loop, where only the bounds are checked.
	implied    func(side rules.Destination, state string) (string, bool)
	wantCycles bool
}

func table(m map[string]string) func(string) (string, bool) {
	return func(s string) (string, bool) { v, ok := m[s]; return v, ok }
}

func byside(c2s, s2c map[string]string) func(rules.Destination, string) (string, bool) {
	return func(side rules.Destination, state string) (string, bool) {
		if side == rules.Connect {
			return table(c2s)(state)
		}
		return table(s2c)(state)
	}
}

func scenarios(t *testing.T) []scenario {
	loopy := settings()
	loopy.EchoWindowSeconds = 1 // echoes arrive later than this, so only the loop guard helps
	return []scenario{
		{
			name: "symmetric mapping",
			set: compile(t, nil,
				pair("Available", "Available", true, true),
				pair("Away", "Lunch", true, true),
				pair("Offline", "Offline", true, true),
				pair("Busy", "Busy", false, true),
				pair("Away", "Training", false, true),
			),
			settings: settings(),
			implied: byside(
				map[string]string{"Available": "Available", "Lunch": "Away", "Offline": "Offline", "Training": "Away"},
				map[string]string{"Available": "Available", "Away": "Lunch", "Offline": "Offline"}),
		},
		{
			name: "asymmetric chains",
			set: compile(t, []config.Rule{
				c2s("c1", "Lunch", "Away"), s2c("s1", "Away", "Break"),
				c2s("c2", "Break", "Busy"), s2c("s2", "Busy", "Training"),
				c2s("c3", "Training", "Offline"),
				rule("out", rules.EventSalesforceAgentLogout, rules.Connect, "Offline", when("salesforce.newState", "eq", "Offline")),
			}),
			settings: settings(),
			implied: byside(
				map[string]string{"Lunch": "Away", "Break": "Busy", "Training": "Offline"},
				map[string]string{"Away": "Break", "Busy": "Training", "Offline": "Offline"}),
		},
		{
			name: "CTI Adapter Lunch example",
			set: compile(t, []config.Rule{
				c2s("lunch-to-away", "Lunch", "Away"),
				c2s("available", "Available", "Available"),
				withPolicy(s2c("sf-available", "Available", "Available"), rules.PolicyDefer),
			}, pair("Offline", "Offline", true, true)),
			settings: func() config.Settings { s := settings(); s.WhileOnContact = "ignore"; return s }(),
			implied: byside(
				map[string]string{"Lunch": "Away", "Available": "Available", "Offline": "Offline"},
				map[string]string{"Available": "Available", "Offline": "Offline"}),
		},
		{
			name: "cyclic rules with missed echoes",
			set: compile(t, []config.Rule{
				c2s("c1", "Lunch", "Away"), s2c("s1", "Away", "Break"),
				c2s("c2", "Break", "Busy"), s2c("s2", "Busy", "Lunch"),
			}),
			settings:   loopy,
			wantCycles: true,
		},
	}
}

func TestConvergence(t *testing.T) {
	seeds := make([]uint64, 0, 40)
	n := 40
	if testing.Short() {
		n = 5
	}
	for i := range n {
		seeds = append(seeds, uint64(1000+i))
	}
	if *seedFlag != 0 {
		seeds = []uint64{*seedFlag}
	}
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			if got := len(sc.set.Warnings()) > 0; got != sc.wantCycles {
				t.Fatalf("cycle warnings = %v, want %v: %v", got, sc.wantCycles, sc.set.Warnings())
			}
			var total simStats
			for _, seed := range seeds {
				s := newSim(sc, seed)
				err := s.run()
				if err != nil {
					t.Fatalf("seed=%d: %v\nrerun: go test ./shared/presence -run 'TestConvergence/%s$' -seed=%d\nlast steps:\n%s",
						seed, err, strings.ReplaceAll(sc.name, " ", "_"), seed, s.tail())
				}
				total.add(s.stats)
			}
			t.Logf("%d seeds: %d stimuli, %d commands (%.2f per stimulus, at most %d in any seed), outcomes %v",
				len(seeds), total.stimuli, total.commands, float64(total.commands)/float64(max(total.stimuli, 1)), total.maxCommands, total.outcomes)
		})
	}
}

type simStats struct {
	stimuli, commands, maxCommands int
	outcomes                       map[Outcome]int
}

func (a *simStats) add(b simStats) {
	a.stimuli += b.stimuli
	a.commands += b.commands
	a.maxCommands = max(a.maxCommands, b.commands)
	if a.outcomes == nil {
		a.outcomes = map[Outcome]int{}
	}
	for k, v := range b.outcomes {
		a.outcomes[k] += v
	}
}

// sim runs the bridge against two in-memory systems on a simulated clock. Everything that
// happens is an item in a time-ordered queue; delays are random, so events reach the bridge
// out of order, echoes arrive late, and agents act while commands are in flight.
type sim struct {
	sc    scenario
	rng   *rand.Rand
	now   time.Time
	queue []item
	seq   int
	log   []string

	// Connect as the agent and Connect itself see it.
	connStatus   string
	connContacts []Contact
	connNext     string
	connLast     ConnectSnapshot
	connEmitted  time.Time
	connApplyAt  time.Time // commands apply in order, as the shell sends them one at a time
	// Salesforce as the console sees it.
	sfStatus    string
	sfEmitted   time.Time
	sfApplyAt   time.Time
	consoleOpen bool

	state     AgentState
	delivered [2]time.Time // newest event time delivered per side
	stats     simStats
	eventSeq  int
}

type item struct {
	at  time.Time
	seq int
	do  func() error
}

func newSim(sc scenario, seed uint64) *sim {
	s := &sim{
		sc: sc, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: t0,
		connStatus: "Available", sfStatus: "Available", consoleOpen: true,
		stats: simStats{outcomes: map[Outcome]int{}},
	}
	s.connLast = ConnectSnapshot{StatusName: "Available"}
	s.state = linked()
	s.connEmitted, s.sfEmitted = t0, t0
	return s
}

func (s *sim) logf(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf("%8.3fs ", s.now.Sub(t0).Seconds())+fmt.Sprintf(format, args...))
}

func (s *sim) tail() string {
	return strings.Join(s.log[max(0, len(s.log)-40):], "\n")
}

func (s *sim) after(d time.Duration, do func() error) {
	s.seq++
	it := item{at: s.now.Add(d), seq: s.seq, do: do}
	i, _ := slices.BinarySearchFunc(s.queue, it, func(a, b item) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	s.queue = slices.Insert(s.queue, i, it)
}

func (s *sim) ms(lo, hi int) time.Duration {
	return time.Duration(lo+s.rng.IntN(hi-lo+1)) * time.Millisecond
}

// drain runs queued items until the queue is empty or the clock would pass until.
func (s *sim) drain(until time.Time) error {
	for len(s.queue) > 0 && !s.queue[0].at.After(until) {
		it := s.queue[0]
		s.queue = s.queue[1:]
		s.now = it.at
		if err := it.do(); err != nil {
			return err
		}
	}
	if s.now.Before(until) {
		s.now = until
	}
	return nil
}

var (
	connectChoices = []string{"Available", "Lunch", "Break", "Training", "Offline"}
	sfChoices      = []string{"Available", "Away", "Busy", "Offline"}
)

func (s *sim) run() error {
	// Random phase: agents act on both sides while calls come and go and the console opens and
	// closes; only invariants are checked.
	for range 150 {
		if err := s.drain(s.now.Add(s.ms(200, 15000))); err != nil {
			return err
		}
		switch p := s.rng.IntN(100); {
		case p < 35:
			s.humanConnect(connectChoices[s.rng.IntN(len(connectChoices))])
		case p < 70:
			s.humanSalesforce(sfChoices[s.rng.IntN(len(sfChoices))])
		case p < 90:
			s.startCall()
		default:
			s.consoleOpen = !s.consoleOpen
			s.logf("console open=%v", s.consoleOpen)
		}
	}
	if s.stats.commands > s.stats.stimuli*s.sc.settings.LoopGuard.MaxCrossings {
		return fmt.Errorf("oscillation: %d commands for %d stimuli", s.stats.commands, s.stats.stimuli)
	}
	// Checked phase: after things settle, one agent action at a time must leave both systems
	// where the rules say.
	s.consoleOpen = true
	for range 6 {
		if err := s.settle(); err != nil {
			return err
		}
		side := rules.Connect
		if s.rng.IntN(2) == 0 {
			side = rules.Salesforce
		}
		var choice string
		var other string
		if side == rules.Connect {
			other = s.sfStatus
			for choice = s.connStatus; choice == s.connStatus; {
				choice = connectChoices[s.rng.IntN(len(connectChoices))]
			}
			s.humanConnect(choice)
		} else {
			other = s.connStatus
			for choice = s.sfStatus; choice == s.sfStatus; {
				choice = sfChoices[s.rng.IntN(len(sfChoices))]
			}
			s.humanSalesforce(choice)
		}
		if err := s.settle(); err != nil {
			return err
		}
		if s.sc.implied == nil {
			continue
		}
		want, ok := s.sc.implied(side, choice)
		if !ok {
			want = other
		}
		gotSelf, gotOther := s.connStatus, s.sfStatus
		if side == rules.Salesforce {
			gotSelf, gotOther = s.sfStatus, s.connStatus
		}
		if gotSelf != choice || gotOther != want {
			return fmt.Errorf("after %s was set to %q: %s is %q and the other side %q; the rules imply %q and %q",
				side.Label(), choice, side.Label(), gotSelf, gotOther, choice, want)
		}
	}
	if s.stats.commands > s.stats.stimuli*s.sc.settings.LoopGuard.MaxCrossings {
		return fmt.Errorf("oscillation: %d commands for %d stimuli", s.stats.commands, s.stats.stimuli)
	}
	return nil
}

// settle ends calls, lets everything in flight land, waits out every window and deadline, and
// checks that the bridge's mirrors match the systems: no stale event overwrote a newer one.
func (s *sim) settle() error {
	for len(s.connContacts) > 0 || len(s.queue) > 0 {
		if err := s.drain(s.now.Add(time.Minute)); err != nil {
			return err
		}
	}
	if err := s.drain(s.now.Add(130 * time.Second)); err != nil {
		return err
	}
	s.state, _ = ExpireCommands(s.state, s.now)
	if m := s.state.Connect; m.Status != s.connStatus || m.State != EffectiveState(s.connStatus, s.connContacts) {
		return fmt.Errorf("stale Connect mirror: %q (%s), Connect is %q", m.Status, m.State, s.connStatus)
	}
	if m := s.state.Salesforce; m.StatusName != s.sfStatus {
		return fmt.Errorf("stale Salesforce mirror: %q, Salesforce is %q", m.StatusName, s.sfStatus)
	}
	return nil
}

// The systems.

func (s *sim) humanConnect(status string) {
	if status == s.connStatus {
		return
	}
	s.logf("agent sets Connect %s", status)
	s.connStatus, s.connNext = status, ""
	s.emitConnect(true)
}

func (s *sim) humanSalesforce(status string) {
	if status == s.sfStatus {
		return
	}
	s.logf("agent sets Salesforce %s", status)
	s.sfStatus = status
	s.emitSalesforce(true, "")
}

// startCall rings the agent, who answers, talks, wraps up and clears the contact; Connect then
// applies any next status.
func (s *sim) startCall() {
	if len(s.connContacts) > 0 || s.connStatus != "Available" {
		return
	}
	s.logf("call rings")
	s.connContacts = []Contact{call(ContactIncoming)}
	s.emitConnect(true)
	s.after(s.ms(1000, 5000), func() error {
		s.connContacts = []Contact{call(ContactConnected)}
		s.emitConnect(true)
		s.after(s.ms(5000, 30000), func() error {
			s.connContacts = []Contact{call(ContactEnded)}
			s.emitConnect(true)
			s.after(s.ms(2000, 10000), func() error {
				s.connContacts = nil
				if s.connNext != "" {
					s.logf("Connect applies next status %s", s.connNext)
					s.connStatus, s.connNext = s.connNext, ""
				}
				s.emitConnect(true)
				return nil
			})
			return nil
		})
		return nil
	})
}

// eventTime is when a system stamps its next event: never the same instant twice.
func eventTime(now time.Time, last *time.Time) time.Time {
	t := now
	if !t.After(*last) {
		t = last.Add(time.Millisecond)
	}
	*last = t
	return t
}

func (s *sim) emitConnect(stimulus bool) {
	if stimulus {
		s.stats.stimuli++
	}
	prev := s.connLast
	cur := ConnectSnapshot{StatusName: s.connStatus, Contacts: slices.Clone(s.connContacts)}
	s.connLast = cur
	s.eventSeq++
	ev := Event{ID: fmt.Sprintf("c%d", s.eventSeq), Kind: rules.EventConnectAgentStateChanged,
		Time: eventTime(s.now, &s.connEmitted), Origin: OriginStream, Connect: cur, ConnectPrevious: &prev}
	s.after(s.ms(50, 2000), func() error { return s.deliver(ev) })
}

func (s *sim) emitSalesforce(stimulus bool, commandID string) {
	if stimulus {
		s.stats.stimuli++
	}
	s.eventSeq++
	ev := Event{ID: fmt.Sprintf("s%d", s.eventSeq), Kind: rules.EventSalesforceAgentStateChanged,
		Time: eventTime(s.now, &s.sfEmitted), Origin: OriginWebhook, Salesforce: SalesforceData{StatusID: sfID(s.sfStatus)}, CommandID: commandID}
	if s.sfStatus == "Offline" {
		ev.Kind, ev.Salesforce = rules.EventSalesforceAgentLogout, SalesforceData{}
	}
	s.after(s.ms(50, 2000), func() error { return s.deliver(ev) })
}

func (s *sim) apply(c Command) error {
	if c.Destination == rules.Connect {
		if c.Mode == ModeNextStatus && OnContact(s.connContacts) {
			s.logf("Connect sets next status %s", c.Target.ConnectStatus)
			s.connNext = c.Target.ConnectStatus
			return nil
		}
		if s.connStatus == c.Target.ConnectStatus {
			return nil
		}
		s.logf("Connect applies %s (%s)", c.Target.ConnectStatus, c.Mode)
		s.connStatus, s.connNext = c.Target.ConnectStatus, ""
		s.emitConnect(false)
		return nil
	}
	if !s.consoleOpen {
		s.logf("console closed: Salesforce %s not applied", c.Target.SalesforceStatus)
		return nil
	}
	if s.sfStatus != c.Target.SalesforceStatus {
		s.logf("console applies Salesforce %s", c.Target.SalesforceStatus)
		s.sfStatus = c.Target.SalesforceStatus
		id := ""
		if s.rng.IntN(2) == 0 { // the console may or may not say which command it applied
			id = c.ID
		}
		s.emitSalesforce(false, id)
	}
	ack := Ack{CommandID: c.ID, Applied: true}
	s.after(s.ms(50, 1000), func() error {
		s.state, _ = Acknowledge(s.state, ack, s.now)
		return nil
	})
	return nil
}

// deliver is the shell: expire overdue commands, decide, persist, send.
func (s *sim) deliver(ev Event) error {
	side := 0
	if ev.Kind.System() == rules.Salesforce {
		side = 1
	}
	s.state, _ = ExpireCommands(s.state, s.now)
	d := Decide(s.state, ev, s.sc.set, s.sc.settings, s.now)
	s.stats.outcomes[d.Audit.Outcome]++
	s.logf("bridge %s %s: %s", ev.ID, d.Audit.Outcome, d.Audit.Explanation)
	if ev.Time.After(s.delivered[side]) {
		s.delivered[side] = ev.Time
	}
	mirror := d.State.Connect.EventTime
	if ev.Kind.System() == rules.Salesforce {
		mirror = d.State.Salesforce.EventTime
	}
	if !mirror.Equal(s.delivered[side]) {
		return fmt.Errorf("the %s mirror is at %s but the newest event delivered is at %s", ev.Kind.System().Label(), stamp(mirror), stamp(s.delivered[side]))
	}
	if d.Audit.Outcome == OutcomeStale && len(d.Commands) > 0 {
		return fmt.Errorf("a stale event caused commands")
	}
	s.state = d.State
	for _, c := range d.Commands {
		s.stats.commands++
		at := &s.connApplyAt
		if c.Destination == rules.Salesforce {
			at = &s.sfApplyAt
		}
		when := s.now.Add(s.ms(50, 1500))
		if !when.After(*at) {
			when = at.Add(time.Millisecond)
		}
		*at = when
		s.after(when.Sub(s.now), func() error { return s.apply(c) })
	}
	return nil
}
