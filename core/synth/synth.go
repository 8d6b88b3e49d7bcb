package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/xcbench/xcbench/core/data"
	"github.com/xcbench/xcbench/core/sparse"
)

// Config describes a synthetic dataset. Zero fields take the defaults
// noted.
type Config struct {
	Labels    int // number of labels (default 1000)
	TrainDocs int // default 5000
	TestDocs  int // default 1000
	Topics    int // latent topics (default max(2, Labels/50))
	Seed      uint64

	// Alpha is the power-law exponent of label popularity: label of rank r
	// is drawn with probability ∝ (r+1)^-Alpha (default 1.0).
	Alpha float64
	// MaxLabelsPerDoc: each document has 1..MaxLabelsPerDoc labels, the
	// count drawn geometrically with mean about 2 (default 5).
	MaxLabelsPerDoc int
	// CrossTopic is the probability that an extra label comes from any
	// topic instead of the primary label's (default 0.1).
	CrossTopic float64
	// LabelWords is the number of own words in each label text (default 3).
	LabelWords int
	// TopicWords is the size of each topic's word list (default 20).
	TopicWords int
	// NoiseWords is the size of the shared noise vocabulary (default 2000).
	NoiseWords int
	// DocLen is the target number of words in a document (default 12).
	DocLen int
	// Synonym is the probability that a label word in a document is
	// replaced by its synonym (default 0.7).
	Synonym float64
	// LabelShare is the fraction of document words taken from its labels'
	// texts (default 0.2); TopicShare from the topic (default 0.25); the
	// rest is noise.
	LabelShare, TopicShare float64

	// Options are passed to data.Featurize (tokenizer, MaxLen, ...).
	Options data.Options
}

// checkSigns refuses negative settings: zero means "default", but a
// negative count or probability is a mistake, not a request for one.
func (c Config) checkSigns() error {
	ints := map[string]int{"labels": c.Labels, "train_docs": c.TrainDocs, "test_docs": c.TestDocs, "topics": c.Topics,
		"max_labels_per_doc": c.MaxLabelsPerDoc, "label_words": c.LabelWords, "topic_words": c.TopicWords,
		"noise_words": c.NoiseWords, "doc_len": c.DocLen}
	floats := map[string]float64{"alpha": c.Alpha, "cross_topic": c.CrossTopic, "synonym": c.Synonym,
		"label_share": c.LabelShare, "topic_share": c.TopicShare}
	var bad []string
	for k, v := range ints {
		if v < 0 {
			bad = append(bad, fmt.Sprintf("%s: %d", k, v))
		}
	}
	for k, v := range floats {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			bad = append(bad, fmt.Sprintf("%s: %v", k, v))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("synth: must be non-negative and finite (0 = default): %s", strings.Join(bad, ", "))
	}
	return nil
}

// Check validates c as Generate would, without generating anything.
func (c Config) Check() error {
	if err := c.checkSigns(); err != nil {
		return err
	}
	return c.withDefaults().validate()
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Labels, 1000)
	def(&c.TrainDocs, 5000)
	def(&c.TestDocs, 1000)
	def(&c.Topics, max(2, c.Labels/50))
	def(&c.MaxLabelsPerDoc, 5)
	def(&c.LabelWords, 3)
	def(&c.TopicWords, 20)
	def(&c.NoiseWords, 2000)
	def(&c.DocLen, 12)
	deff(&c.Alpha, 1.0)
	deff(&c.CrossTopic, 0.1)
	deff(&c.Synonym, 0.7)
	deff(&c.LabelShare, 0.2)
	deff(&c.TopicShare, 0.25)
	return c
}

func (c Config) validate() error {
	switch {
	case c.Topics > c.Labels:
		return fmt.Errorf("synth: %d topics for %d labels", c.Topics, c.Labels)
	case c.LabelShare+c.TopicShare > 1:
		return fmt.Errorf("synth: label share %.2f + topic share %.2f > 1", c.LabelShare, c.TopicShare)
	case c.Synonym > 1 || c.CrossTopic > 1:
		return fmt.Errorf("synth: probabilities must be <= 1")
	}
	return nil
}

// generator holds the planted structure; docs are drawn one at a time.
type generator struct {
	c         Config
	rng       *rand.Rand
	topicOf   []int32   // label -> topic
	cum       []float64 // global popularity CDF over labels
	topicLbl  [][]int32 // topic -> labels
	topicCum  [][]float64
	pop       []float64
	wordBase  struct{ topic, label, syn, noise int }
	noiseCum  []float64
	labelsBuf []int32
	words     []string
}

func newGenerator(c Config) *generator {
	g := &generator{c: c, rng: rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))}
	L := c.Labels
	g.topicOf = make([]int32, L)
	for l := range g.topicOf {
		// Every topic gets labels, then the rest at random.
		if l < c.Topics {
			g.topicOf[l] = int32(l)
		} else {
			g.topicOf[l] = int32(g.rng.IntN(c.Topics))
		}
	}
	// Popularity ranks are a random permutation, so frequent labels are
	// spread over topics and ids.
	rank := g.rng.Perm(L)
	g.pop = make([]float64, L)
	for l := range g.pop {
		g.pop[l] = math.Pow(float64(rank[l]+1), -c.Alpha)
	}
	g.cum = cumsum(g.pop)
	g.topicLbl = make([][]int32, c.Topics)
	for l, t := range g.topicOf {
		g.topicLbl[t] = append(g.topicLbl[t], int32(l))
	}
	g.topicCum = make([][]float64, c.Topics)
	for t, ls := range g.topicLbl {
		w := make([]float64, len(ls))
		for i, l := range ls {
			w[i] = g.pop[l]
		}
		g.topicCum[t] = cumsum(w)
	}
	g.wordBase.topic = 0
	g.wordBase.label = c.Topics * c.TopicWords
	g.wordBase.syn = g.wordBase.label + L*c.LabelWords
	g.wordBase.noise = g.wordBase.syn + L*c.LabelWords
	nw := make([]float64, c.NoiseWords)
	for i := range nw {
		nw[i] = 1 / float64(i+1) // Zipfian noise, like function words
	}
	g.noiseCum = cumsum(nw)
	return g
}

func cumsum(w []float64) []float64 {
	out := make([]float64, len(w))
	s := 0.0
	for i, v := range w {
		s += v
		out[i] = s
	}
	return out
}

func (g *generator) draw(cum []float64) int {
	u := g.rng.Float64() * cum[len(cum)-1]
	return min(sort.SearchFloat64s(cum, u), len(cum)-1)
}

// Word returns the text of word id: a bijective base-80 encoding into
// consonant-vowel syllables, so every id is a distinct letters-only word.
func Word(id int) string {
	const cons, vows = "bdfghjklmnprstvz", "aeiou"
	var b []byte
	n := id + 1
	for n > 0 {
		n--
		s := n % 80
		b = append(b, cons[s/5], vows[s%5])
		n /= 80
	}
	return string(b)
}

// LabelText is the text of label l: its own words.
func (g *generator) labelText(l int) string {
	ws := make([]string, g.c.LabelWords)
	for j := range ws {
		ws[j] = Word(g.wordBase.label + l*g.c.LabelWords + j)
	}
	return strings.Join(ws, " ")
}

// SynonymOf returns the synonym of label l's j-th word.
func (g *generator) synonym(l, j int) string {
	return Word(g.wordBase.syn + l*g.c.LabelWords + j)
}

// doc draws one document's sorted labels and text.
func (g *generator) doc() ([]int32, string) {
	c := g.c
	primary := int32(g.draw(g.cum))
	t := g.topicOf[primary]
	n := 1
	for n < c.MaxLabelsPerDoc && g.rng.Float64() < 0.5 {
		n++
	}
	labs := append(g.labelsBuf[:0], primary)
	for tries := 0; len(labs) < n && tries < 4*n; tries++ {
		var l int32
		if g.rng.Float64() < c.CrossTopic {
			l = int32(g.draw(g.cum))
		} else {
			l = g.topicLbl[t][g.draw(g.topicCum[t])]
		}
		if !slices.Contains(labs, l) {
			labs = append(labs, l)
		}
	}
	g.labelsBuf = labs
	words := g.words[:0]
	nl := max(1, int(math.Round(float64(c.DocLen)*c.LabelShare)))
	nt := int(math.Round(float64(c.DocLen) * c.TopicShare))
	for i := 0; i < nl; i++ {
		// The primary label gets about half of the label words.
		l := int(labs[0])
		if i%2 == 1 && len(labs) > 1 {
			l = int(labs[1+g.rng.IntN(len(labs)-1)])
		}
		j := g.rng.IntN(c.LabelWords)
		if g.rng.Float64() < c.Synonym {
			words = append(words, g.synonym(l, j))
		} else {
			words = append(words, Word(g.wordBase.label+l*c.LabelWords+j))
		}
	}
	for i := 0; i < nt; i++ {
		words = append(words, Word(g.wordBase.topic+int(t)*c.TopicWords+g.rng.IntN(c.TopicWords)))
	}
	for i := nl + nt; i < c.DocLen; i++ {
		words = append(words, Word(g.wordBase.noise+g.draw(g.noiseCum)))
	}
	g.rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	g.words = words
	out := slices.Clone(labs)
	slices.Sort(out)
	return out, strings.Join(words, " ")
}

// Generate builds a synthetic dataset in memory and featurizes it with
// c.Options. Same Config (seed included) ⇒ identical dataset.
func Generate(c Config) (*data.Dataset, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	g := newGenerator(c)
	ds := &data.Dataset{
		Name:      fmt.Sprintf("synth-L%d-N%d-s%d", c.Labels, c.TrainDocs, c.Seed),
		Format:    "synthetic",
		NumLabels: c.Labels,
	}
	if c.Options.Name != "" {
		ds.Name = c.Options.Name
	}
	ds.LabelText = make([]string, c.Labels)
	for l := range ds.LabelText {
		ds.LabelText[l] = g.labelText(l)
	}
	var err error
	ds.TrainText, ds.TrainY, err = g.docs(c.TrainDocs)
	if err != nil {
		return nil, err
	}
	ds.TestText, ds.TestY, err = g.docs(c.TestDocs)
	if err != nil {
		return nil, err
	}
	ds.PropA, ds.PropB = data.DefaultPropensity(ds.Name)
	if err := data.Featurize(ds, c.Options); err != nil {
		return nil, err
	}
	return ds, nil
}

func (g *generator) docs(n int) ([]string, *sparse.CSR, error) {
	texts := make([]string, n)
	b := sparse.NewBuilder(g.c.Labels)
	var es []sparse.Entry
	for i := range texts {
		labs, text := g.doc()
		texts[i] = text
		es = es[:0]
		for _, l := range labs {
			es = append(es, sparse.Entry{Col: l, Val: 1})
		}
		if err := b.AddRow(es); err != nil {
			return nil, nil, fmt.Errorf("synth: doc %d: %w", i, err)
		}
	}
	return texts, b.Build(), nil
}
