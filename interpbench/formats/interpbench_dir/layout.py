"""The file names of the published layout, and the limits on reading them."""

CFG_FILE = "ll_model_cfg.pkl"
WEIGHTS_FILE = "ll_model.pth"
EDGES_FILE = "edges.pkl"
META_FILE = "meta.json"
PICKLE_LIMIT = 64 * 2**20  # config, edges and meta of the largest published model are kilobytes

# HookedTransformerConfig fields that TransformerLens 1.x (InterpBench pins 1.14-1.19)
# and today's TransformerLens both accept: ``HookedTransformerConfig.from_dict`` is
# ``cls(**d)``, so a field an older TransformerLens does not know would break its loader.
WRITE_FIELDS = (
    "n_layers d_model n_ctx d_head model_name n_heads d_mlp act_fn d_vocab eps use_attn_result "
    "use_attn_scale use_split_qkv_input use_hook_mlp_in use_attn_in use_local_attn original_architecture "
    "from_checkpoint checkpoint_index checkpoint_label_type checkpoint_value tokenizer_name window_size "
    "attn_types init_mode normalization_type device n_devices attention_dir attn_only seed initializer_range "
    "init_weights scale_attn_by_inverse_layer_idx positional_embedding_type final_rms d_vocab_out "
    "parallel_attn_mlp rotary_dim n_params use_hook_tokens gated_mlp dtype default_prepend_bos"
).split()
