package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// Static cycle detection.
//
// The graph's nodes are states the bridge can set: every rule and mapping target. Setting a
// state produces an event in that system (a Connect state change, a Salesforce state change, and
// for Offline also a logout), so each node has an edge to every target that event can reach:
// the rules for that event whose criteria may hold for that state, in priority order, stopping
// at the first rule that certainly holds; and the mapping row for the state unless some rule
// certainly holds. "May hold" is three-valued evaluation in which only the new state is known;
// criteria on anything else (old state, channel, workload) are unknown, which over-approximates
// and so never misses a cycle. Work and workload events are not caused by the bridge, so their
// rules start chains but never continue one.
//
// A cycle through two nodes (Connect A → Salesforce X → Connect A) is a fixed point: both sides
// agree and the second command is a no-op. A simple cycle through four or more nodes visits two
// different states of one system, so the agent's status would oscillate whenever an echo is
// missed. Those are reported, one warning per rule or mapping row on the cycle.

// Bounds that keep the search cheap on pathological rule sets; hitting one is itself reported.
const (
	maxCycles     = 20
	maxCycleSteps = 200_000
)

type gnode struct {
	sys   Destination
	state string
}

// String renders the node as `Connect "Lunch"`.
func (n gnode) String() string { return n.sys.Label() + " " + strconv.Quote(n.state) }

type member struct{ path, label string }

type gedge struct {
	to      int
	members []member
}

type graph struct {
	nodes []gnode
	index map[gnode]int
	adj   [][]gedge
}

func cycleWarnings(s *Set) []apperr.Problem {
	g := buildGraph(s)
	cycles, truncated := g.cycles()
	var out []apperr.Problem
	seen := map[apperr.Problem]bool{}
	for _, cyc := range cycles {
		var b strings.Builder
		var members []member
		b.WriteString(g.nodes[cyc[0]].String())
		for i, from := range cyc {
			to := cyc[(i+1)%len(cyc)]
			e := g.edge(from, to)
			labels := make([]string, len(e.members))
			for j, m := range e.members {
				labels[j] = m.label
				members = append(members, m)
			}
			fmt.Fprintf(&b, " → %s (%s)", g.nodes[to], strings.Join(labels, " or "))
		}
		msg := "part of a status cycle: " + b.String() +
			"; echo suppression normally stops it, but if an echo is missed the agent's status oscillates until the loop guard cuts the chain"
		for _, m := range members {
			p := apperr.Problem{Path: m.path, Message: msg}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if truncated {
		out = append(out, apperr.Problem{Path: "$.rules", Message: fmt.Sprintf(
			"cycle search stopped after %d cycles or %d steps; there may be more cycles", maxCycles, maxCycleSteps)})
	}
	return out
}

func buildGraph(s *Set) *graph {
	g := &graph{index: map[gnode]int{}}
	add := func(t Target) {
		n := gnode{t.Destination, t.State()}
		if _, ok := g.index[n]; !ok {
			g.index[n] = len(g.nodes)
			g.nodes = append(g.nodes, n)
		}
	}
	for _, list := range s.byEvent {
		for _, r := range list {
			if r.enabled {
				add(r.target)
			}
		}
	}
	for _, m := range s.toSalesforce {
		add(m.target)
	}
	for _, m := range s.toConnect {
		add(m.target)
	}
	slices.SortFunc(g.nodes, func(a, b gnode) int {
		return cmp.Or(strings.Compare(string(a.sys), string(b.sys)), strings.Compare(a.state, b.state))
	})
	for i, n := range g.nodes {
		g.index[n] = i
	}
	g.adj = make([][]gedge, len(g.nodes))
	for i, n := range g.nodes {
		for _, k := range causedEvents(n) {
			g.addEventEdges(s, i, n, k)
		}
		slices.SortFunc(g.adj[i], func(a, b gedge) int { return cmp.Compare(a.to, b.to) })
	}
	return g
}

// causedEvents lists the events the bridge causes by setting n.
func causedEvents(n gnode) []EventKind {
	if n.sys == Connect {
		return []EventKind{EventConnectAgentStateChanged}
	}
	if n.state == Offline {
		return []EventKind{EventSalesforceAgentStateChanged, EventSalesforceAgentLogout}
	}
	return []EventKind{EventSalesforceAgentStateChanged}
}

func (g *graph) addEventEdges(s *Set, from int, n gnode, k EventKind) {
	known := map[operandID]operandValue{}
	if n.sys == Connect {
		// With no contact, the effective state is the status the bridge set.
		known[opConnectNewState] = str(n.state)
		known[opConnectNewStatus] = str(n.state)
	} else {
		known[opSalesforceNewState] = str(n.state)
	}
	idx, _ := k.index()
	for _, r := range s.byEvent[idx] {
		if !r.enabled {
			continue
		}
		t := r.tri(known)
		if t == triFalse {
			continue
		}
		g.addEdge(from, r.target, member{r.path, "rule " + strconv.Quote(r.id)})
		if t == triTrue {
			return // shadows later rules and the mapping
		}
	}
	var m mapping
	var ok bool
	switch k {
	case EventConnectAgentStateChanged:
		m, ok = s.toSalesforce[n.state]
	case EventSalesforceAgentStateChanged:
		m, ok = s.toConnect[n.state]
	case EventSalesforceAgentLogout:
		m, ok = s.toConnect[Offline]
	}
	if ok {
		g.addEdge(from, m.target, member{m.path, "mapping " + m.path})
	}
}

func (g *graph) addEdge(from int, t Target, m member) {
	to := g.index[gnode{t.Destination, t.State()}]
	for i := range g.adj[from] {
		if g.adj[from][i].to == to {
			if !slices.Contains(g.adj[from][i].members, m) {
				g.adj[from][i].members = append(g.adj[from][i].members, m)
			}
			return
		}
	}
	g.adj[from] = append(g.adj[from], gedge{to: to, members: []member{m}})
}

func (g *graph) edge(from, to int) gedge {
	for _, e := range g.adj[from] {
		if e.to == to {
			return e
		}
	}
	return gedge{}
}

// cycles enumerates simple cycles of four or more nodes, each once: a cycle is found only from
// its smallest node, and the search never enters smaller nodes.
func (g *graph) cycles() (out [][]int, truncated bool) {
	steps := 0
	onPath := make([]bool, len(g.nodes))
	var path []int
	var dfs func(start, v int)
	dfs = func(start, v int) {
		for _, e := range g.adj[v] {
			if truncated {
				return
			}
			if steps++; steps > maxCycleSteps || len(out) >= maxCycles {
				truncated = true
				return
			}
			switch {
			case e.to == start:
				if len(path) >= 4 {
					out = append(out, slices.Clone(path))
				}
			case e.to > start && !onPath[e.to]:
				onPath[e.to] = true
				path = append(path, e.to)
				dfs(start, e.to)
				path = path[:len(path)-1]
				onPath[e.to] = false
			}
		}
	}
	for start := range g.nodes {
		path = append(path[:0], start)
		onPath[start] = true
		dfs(start, start)
		onPath[start] = false
		if truncated {
			break
		}
	}
	return out, truncated
}

// tri is a three-valued truth value for partial evaluation.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

// tri evaluates the rule knowing only some operands.
func (r *rule) tri(known map[operandID]operandValue) tri {
	side := func(t term) (operandValue, bool) {
		if t.op == opLiteral {
			return t.lit, true
		}
		v, ok := known[t.op]
		return v, ok
	}
	result := triTrue
	if r.any {
		result = triFalse
	}
	for _, c := range r.criteria {
		l, lok := side(c.left)
		rv, rok := side(c.right)
		t := triUnknown
		if lok && rok {
			t = triFalse
			if compare(c.cmp, l, rv) {
				t = triTrue
			}
		}
		switch {
		case r.any && t == triTrue:
			return triTrue
		case !r.any && t == triFalse:
			return triFalse
		case t == triUnknown:
			result = triUnknown
		}
	}
	return result
}
