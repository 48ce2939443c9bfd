/// The EfficientNetV2 variants of timm, torchvision and Keras, transcribed from their sources:
/// timm `efficientnet.py` (`_gen_efficientnetv2_base/_s/_m/_l/_xl` arch_def strings, `round_channels`,
/// `_scale_stage_depth`, `default_cfgs`), torchvision `efficientnet.py` (`_efficientnet_conf`, weight transforms),
/// Keras `efficientnet_v2.py` (`DEFAULT_BLOCKS_ARGS`, `round_filters`, `round_repeats`, `default_size`).
/// `Tests/ModelsTests` checks every table against the frameworks' own state dicts (`fixtures/layouts`).
extension Architecture {
    // MARK: - Stage tables (unscaled)

    /// timm `_gen_efficientnetv2_base` = Keras `efficientnetv2-b0`: the B0…B3 stages.
    static let baseStages: [StageSpec] = [
        StageSpec(.fusedMBConv, repeats: 1, stride: 1, expansion: 1, out: 16),
        StageSpec(.fusedMBConv, repeats: 2, stride: 2, expansion: 4, out: 32),
        StageSpec(.fusedMBConv, repeats: 2, stride: 2, expansion: 4, out: 48),
        StageSpec(.mbconv, repeats: 3, stride: 2, expansion: 4, seRatio: 0.25, out: 96),
        StageSpec(.mbconv, repeats: 5, stride: 1, expansion: 6, seRatio: 0.25, out: 112),
        StageSpec(.mbconv, repeats: 8, stride: 2, expansion: 6, seRatio: 0.25, out: 192),
    ]

    /// EfficientNetV2-S (paper, Table 4).
    static let sStages: [StageSpec] = [
        StageSpec(.fusedMBConv, repeats: 2, stride: 1, expansion: 1, out: 24),
        StageSpec(.fusedMBConv, repeats: 4, stride: 2, expansion: 4, out: 48),
        StageSpec(.fusedMBConv, repeats: 4, stride: 2, expansion: 4, out: 64),
        StageSpec(.mbconv, repeats: 6, stride: 2, expansion: 4, seRatio: 0.25, out: 128),
        StageSpec(.mbconv, repeats: 9, stride: 1, expansion: 6, seRatio: 0.25, out: 160),
        StageSpec(.mbconv, repeats: 15, stride: 2, expansion: 6, seRatio: 0.25, out: 256),
    ]

    /// timm's pre-release "rw" small model: an unexpanded Fused-MBConv *with* projection first, 272 channels last.
    static let rwStages: [StageSpec] = {
        var s = sStages
        s[0].projectsWithoutExpansion = true
        s[5].outChannels = 272
        return s
    }()

    static let mStages: [StageSpec] = [
        StageSpec(.fusedMBConv, repeats: 3, stride: 1, expansion: 1, out: 24),
        StageSpec(.fusedMBConv, repeats: 5, stride: 2, expansion: 4, out: 48),
        StageSpec(.fusedMBConv, repeats: 5, stride: 2, expansion: 4, out: 80),
        StageSpec(.mbconv, repeats: 7, stride: 2, expansion: 4, seRatio: 0.25, out: 160),
        StageSpec(.mbconv, repeats: 14, stride: 1, expansion: 6, seRatio: 0.25, out: 176),
        StageSpec(.mbconv, repeats: 18, stride: 2, expansion: 6, seRatio: 0.25, out: 304),
        StageSpec(.mbconv, repeats: 5, stride: 1, expansion: 6, seRatio: 0.25, out: 512),
    ]

    static let lStages: [StageSpec] = [
        StageSpec(.fusedMBConv, repeats: 4, stride: 1, expansion: 1, out: 32),
        StageSpec(.fusedMBConv, repeats: 7, stride: 2, expansion: 4, out: 64),
        StageSpec(.fusedMBConv, repeats: 7, stride: 2, expansion: 4, out: 96),
        StageSpec(.mbconv, repeats: 10, stride: 2, expansion: 4, seRatio: 0.25, out: 192),
        StageSpec(.mbconv, repeats: 19, stride: 1, expansion: 6, seRatio: 0.25, out: 224),
        StageSpec(.mbconv, repeats: 25, stride: 2, expansion: 6, seRatio: 0.25, out: 384),
        StageSpec(.mbconv, repeats: 7, stride: 1, expansion: 6, seRatio: 0.25, out: 640),
    ]

    static let xlStages: [StageSpec] = [
        StageSpec(.fusedMBConv, repeats: 4, stride: 1, expansion: 1, out: 32),
        StageSpec(.fusedMBConv, repeats: 8, stride: 2, expansion: 4, out: 64),
        StageSpec(.fusedMBConv, repeats: 8, stride: 2, expansion: 4, out: 96),
        StageSpec(.mbconv, repeats: 16, stride: 2, expansion: 4, seRatio: 0.25, out: 192),
        StageSpec(.mbconv, repeats: 24, stride: 1, expansion: 6, seRatio: 0.25, out: 256),
        StageSpec(.mbconv, repeats: 32, stride: 2, expansion: 6, seRatio: 0.25, out: 512),
        StageSpec(.mbconv, repeats: 8, stride: 1, expansion: 6, seRatio: 0.25, out: 640),
    ]

    // MARK: - timm

    private static func timmVariant(
        _ name: String, _ stages: [StageSpec], stem: Int, head: Int, headScales: Bool = true, width: Double = 1,
        depth: [Double]? = nil, depthAll: Double = 1, roundLimit: Double = 0.9, tf: Bool, eval: Int, train: Int,
        normalization: ImageNormalization, cropPct: Double
    ) -> Architecture {
        Architecture(
            name: name, scheme: .timm, stages: stages, stemChannels: stem, headChannels: head, headScales: headScales,
            widthMultiplier: width, depthMultipliers: depth ?? Array(repeating: depthAll, count: stages.count),
            rounding: .divisible(roundLimit: roundLimit), padding: tf ? .tfSame : .symmetric,
            batchNormEpsilon: tf ? 1e-3 : 1e-5, activation: "silu", inputSize: eval, trainInputSize: train,
            normalization: normalization, cropPct: cropPct, interpolation: "bicubic", preprocessing: .none,
            softmaxOutput: false, channelsLast: false)
    }

    /// timm: `tf_` ports of Google's checkpoints (TF "SAME" padding, BN eps 1e-3) and Ross Wightman's own
    /// PyTorch-native models (symmetric padding, BN eps 1e-5). Detection prefers `tf_` when both fit: a state dict
    /// does not say which one it came from, and only the `tf_` S/M/L/XL have published weights.
    public static let timm: [Architecture] = [
        timmVariant(
            "tf_efficientnetv2_b0", baseStages, stem: 32, head: 1280, roundLimit: 0, tf: true, eval: 224, train: 192,
            normalization: .imagenet, cropPct: 0.875),
        timmVariant(
            "tf_efficientnetv2_b1", baseStages, stem: 32, head: 1280, depthAll: 1.1, roundLimit: 0, tf: true,
            eval: 240, train: 192, normalization: .imagenet, cropPct: 0.882),
        timmVariant(
            "tf_efficientnetv2_b2", baseStages, stem: 32, head: 1280, width: 1.1, depthAll: 1.2, roundLimit: 0,
            tf: true, eval: 260, train: 208, normalization: .imagenet, cropPct: 0.890),
        timmVariant(
            "tf_efficientnetv2_b3", baseStages, stem: 32, head: 1280, width: 1.2, depthAll: 1.4, roundLimit: 0,
            tf: true, eval: 300, train: 240, normalization: .imagenet, cropPct: 0.904),
        timmVariant(
            "tf_efficientnetv2_s", sStages, stem: 24, head: 1280, tf: true, eval: 384, train: 300,
            normalization: .half, cropPct: 1),
        timmVariant(
            "tf_efficientnetv2_m", mStages, stem: 24, head: 1280, headScales: false, tf: true, eval: 480, train: 384,
            normalization: .half, cropPct: 1),
        timmVariant(
            "tf_efficientnetv2_l", lStages, stem: 32, head: 1280, headScales: false, tf: true, eval: 480, train: 384,
            normalization: .half, cropPct: 1),
        timmVariant(
            "tf_efficientnetv2_xl", xlStages, stem: 32, head: 1280, headScales: false, tf: true, eval: 512,
            train: 384, normalization: .half, cropPct: 1),
        // `efficientnetv2_rw_t` is built with rw=False: the official S stages at width 0.8, depth 0.9.
        timmVariant(
            "efficientnetv2_rw_t", sStages, stem: 24, head: 1280, width: 0.8, depthAll: 0.9, tf: false, eval: 288,
            train: 224, normalization: .imagenet, cropPct: 1),
        timmVariant(
            "efficientnetv2_rw_s", rwStages, stem: 24, head: 1792, tf: false, eval: 384, train: 288,
            normalization: .imagenet, cropPct: 1),
        timmVariant(
            "efficientnetv2_rw_m", rwStages, stem: 24, head: 1792, width: 1.2,
            depth: [1.2, 1.2, 1.2, 1.2, 1.6, 1.6], tf: false, eval: 416, train: 320, normalization: .imagenet,
            cropPct: 1),
        timmVariant(
            "efficientnetv2_s", sStages, stem: 24, head: 1280, tf: false, eval: 384, train: 288,
            normalization: .imagenet, cropPct: 1),
        timmVariant(
            "efficientnetv2_m", mStages, stem: 24, head: 1280, headScales: false, tf: false, eval: 416, train: 320,
            normalization: .imagenet, cropPct: 1),
        timmVariant(
            "efficientnetv2_l", lStages, stem: 32, head: 1280, headScales: false, tf: false, eval: 480, train: 384,
            normalization: .imagenet, cropPct: 1),
        timmVariant(
            "efficientnetv2_xl", xlStages, stem: 32, head: 1280, headScales: false, tf: false, eval: 512,
            train: 384, normalization: .imagenet, cropPct: 1),
    ]

    // MARK: - torchvision

    private static func torchvisionVariant(
        _ name: String, _ stages: [StageSpec], stem: Int, eval: Int, train: Int, normalization: ImageNormalization,
        interpolation: String
    ) -> Architecture {
        Architecture(
            name: name, scheme: .torchvision, stages: stages, stemChannels: stem, headChannels: 1280, headScales: false,
            widthMultiplier: 1, depthMultipliers: Array(repeating: 1, count: stages.count),
            rounding: .divisible(roundLimit: 0.9), padding: .symmetric, batchNormEpsilon: 1e-3, activation: "silu",
            inputSize: eval, trainInputSize: train, normalization: normalization, cropPct: 1,
            interpolation: interpolation, preprocessing: .none, softmaxOutput: false, channelsLast: false)
    }

    /// torchvision: symmetric padding, BN eps 1e-3 (`partial(nn.BatchNorm2d, eps=1e-03)`), squeeze channels
    /// `max(1, in // 4)`; evaluation transforms resize = crop = 384 / 480 / 480.
    public static let torchvision: [Architecture] = [
        torchvisionVariant(
            "efficientnet_v2_s", sStages, stem: 24, eval: 384, train: 300, normalization: .imagenet,
            interpolation: "bilinear"),
        torchvisionVariant(
            "efficientnet_v2_m", mStages, stem: 24, eval: 480, train: 384, normalization: .imagenet,
            interpolation: "bilinear"),
        torchvisionVariant(
            "efficientnet_v2_l", lStages, stem: 32, eval: 480, train: 384, normalization: .half,
            interpolation: "bicubic"),
    ]

    // MARK: - Keras

    /// Keras B0…B3: `Rescaling(1/255)` then `Normalization(mean, variance)` with ImageNet statistics.
    static let kerasNormalize = InModelPreprocessing.rescaleNormalize(
        scale: Float(1.0 / 255.0), mean: [0.485, 0.456, 0.406],
        variance: [Float(0.229 * 0.229), Float(0.224 * 0.224), Float(0.225 * 0.225)])
    /// Keras S/M/L: `Rescaling(scale=1/128, offset=-1)`.
    static let kerasRescale = InModelPreprocessing.rescale(scale: Float(1.0 / 128.0), offset: -1)

    private static func kerasVariant(
        _ name: String, _ stages: [StageSpec], stem: Int, width: Double = 1, depth: Double = 1, size: Int,
        train: Int, preprocessing: InModelPreprocessing
    ) -> Architecture {
        Architecture(
            name: name, scheme: .keras, stages: stages, stemChannels: stem, headChannels: 1280, headScales: true,
            widthMultiplier: width, depthMultipliers: Array(repeating: depth, count: stages.count), rounding: .keras,
            padding: .tfSame, batchNormEpsilon: 1e-3, activation: "silu", inputSize: size, trainInputSize: train,
            normalization: .identity, cropPct: 1, interpolation: "bilinear", preprocessing: preprocessing,
            softmaxOutput: true, channelsLast: true)
    }

    /// Keras applications: NHWC input of raw 0…255 pixels, preprocessing and softmax inside the model, "same"
    /// padding everywhere, BN eps 1e-3 (the Keras default), squeeze channels `max(1, int(in · 0.25))`.
    public static let keras: [Architecture] = [
        kerasVariant("EfficientNetV2B0", baseStages, stem: 32, size: 224, train: 192, preprocessing: kerasNormalize),
        kerasVariant(
            "EfficientNetV2B1", baseStages, stem: 32, depth: 1.1, size: 240, train: 192, preprocessing: kerasNormalize),
        kerasVariant(
            "EfficientNetV2B2", baseStages, stem: 32, width: 1.1, depth: 1.2, size: 260, train: 208,
            preprocessing: kerasNormalize),
        kerasVariant(
            "EfficientNetV2B3", baseStages, stem: 32, width: 1.2, depth: 1.4, size: 300, train: 240,
            preprocessing: kerasNormalize),
        kerasVariant("EfficientNetV2S", sStages, stem: 24, size: 384, train: 300, preprocessing: kerasRescale),
        kerasVariant("EfficientNetV2M", mStages, stem: 24, size: 480, train: 384, preprocessing: kerasRescale),
        kerasVariant("EfficientNetV2L", lStages, stem: 32, size: 480, train: 384, preprocessing: kerasRescale),
    ]
}
