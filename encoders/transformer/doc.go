// Package transformer is the small transformer Siamese encoder
// ("transformer"): learned token and position embeddings, L pre-LN blocks
// (multi-head self-attention with key masking, GELU feed-forward), a final
// LayerNorm, masked mean pooling and L2 normalisation, written directly in
// GoMLX graph ops with N(0, 0.02) initialisation, zero biases and a single
// 1/√d_head attention scale (avoiding the layers package's He-initialised
// rank-2 QKV biases and double-scaled logits). It needs token sequences
// (text datasets). Given checkpoint_dir with config.json, vocab.txt and
// model.safetensors from the BERT family (DistilBERT or BERT names), it
// switches to the post-LN BERT layout and loads the weights it can map.
package transformer
