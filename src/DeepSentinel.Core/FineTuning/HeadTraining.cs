using System.Text.Json;
using DeepSentinel.Core.Diagnostics;
using DeepSentinel.Core.Errors;
using DeepSentinel.Core.Interop.Torch;
using DeepSentinel.Core.Training;

namespace DeepSentinel.Core.FineTuning;

/// <summary>The architecture and optimizer settings of an encoder trained from scratch under a head.</summary>
/// <param name="Encoder">ResNet18, ResNet50 or UNet.</param>
/// <param name="EmbeddingDimension">The embedding length (ResNets' features before the head).</param>
/// <param name="UNetWidth">UNet channels at full resolution.</param>
/// <param name="Device">CPU or CUDA.</param>
/// <param name="Seed">Seed of the fresh weights.</param>
/// <param name="LearningRate">The model's own learning rate (the head's optimizer sets the ones used).</param>
/// <param name="WeightDecay">The model's own weight decay.</param>
internal sealed record ScratchEncoder(EncoderKind Encoder, int EmbeddingDimension, int UNetWidth, TrainingDevice Device, int Seed, double LearningRate, double WeightDecay);

/// <summary>
/// What training a head on an encoder shares, whatever the head (a classifier in
/// <see cref="FineTuningService"/>, a per-pixel head in <see cref="SegmentationService"/>): the
/// starting point's checks, the sensors, a scratch encoder normalised on the training side, the
/// bands on the card and the card written under a temporary name.
/// </summary>
internal static class HeadTraining
{
    /// <summary>The starting point: -Mode, or FineTune with a pretrained model and Scratch without; a mode that contradicts -Model is refused.</summary>
    public static FineTuningMode ResolveMode(FineTuningMode? asked, EmbeddingModel? pretrained, string network, string scratchHint)
    {
        var mode = asked ?? (pretrained is null ? FineTuningMode.Scratch : FineTuningMode.FineTune);
        if (mode != FineTuningMode.Scratch && pretrained is null)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"-Mode {mode} starts from a pretrained {network}: give one with -Model (Import-EmbeddingModel), or use -Mode Scratch.");
        }

        if (mode == FineTuningMode.Scratch && pretrained is not null)
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"-Mode Scratch trains fresh weights: leave -Model out{scratchHint}.");
        }

        return mode;
    }

    /// <summary>The sensors fed to the encoder: -Sensor, or all the pretrained model takes (Fused from scratch); a single-sensor model takes only its own.</summary>
    public static SensorInput ResolveSensors(EmbeddingModel? pretrained, SensorInput? asked)
    {
        var wanted = asked ?? pretrained?.Sensors ?? SensorInput.Fused;
        if (pretrained is not null && pretrained.Sensors != SensorInput.Fused && wanted != pretrained.Sensors)
        {
            throw new DeepSentinelException(ErrorIds.ModelInputMismatch, ErrorKind.InvalidArgument,
                $"{pretrained.Path} takes {pretrained.Sensors} input only ({string.Join(", ", pretrained.Bands)}); -Sensor {wanted} does not match its model card. Use -Sensor {pretrained.Sensors}, or a fused model.", pretrained.Path);
        }

        return wanted;
    }

    /// <summary>The training samples in an epoch's order: by id, then shuffled by the seed and the epoch (so a resumed epoch sees the order it would have).</summary>
    public static LabelledSample[] EpochOrder(IEnumerable<LabelledSample> train, int seed, int epoch)
    {
        var order = train.OrderBy(s => s.Id, StringComparer.Ordinal).ToArray();
        new Random(StableSeed.Mix(seed, epoch + 1)).Shuffle(order);
        return order;
    }

    /// <summary>
    /// Loss weights from class counts out of total (Balanced: total / (classes x count), as
    /// scikit-learn's "balanced"; SquareRoot: its square root; None: 1); a class never seen weighs 0.
    /// </summary>
    public static double[] Weights(IReadOnlyList<double> counts, double total, ClassWeighting weighting) => counts.Select(n => weighting switch
    {
        ClassWeighting.None => 1.0,
        ClassWeighting.SquareRoot => n == 0 ? 0 : Math.Sqrt(total / (counts.Count * n)),
        _ => n == 0 ? 0 : total / (counts.Count * n),
    }).ToArray();

    /// <summary>
    /// The head's classes: -Class in its order (each must be present on the training side, else
    /// ClassNotInTraining naming it; unit: "samples" or "pixels", presentAs: how the present ones are
    /// named), or the present ones in code order; fewer than two is ClassNotInTraining with tooFew(classes).
    /// </summary>
    public static List<string> ResolveClasses(HashSet<string> present, IReadOnlyList<string>? wanted, string unit, string presentAs, Func<List<string>, string> tooFew)
    {
        List<string> classes;
        if (wanted is { Count: > 0 })
        {
            var missing = wanted.Where(c => !present.Contains(c)).ToList();
            if (missing.Count > 0)
            {
                throw new DeepSentinelException(ErrorIds.ClassNotInTraining, ErrorKind.InvalidArgument,
                    $"Class(es) {string.Join(", ", missing.Select(c => $"{c} ({LabelledSample.ClassName(c)})"))} have no training {unit} in the split: a head cannot learn them. {presentAs}: {string.Join(", ", present.Order(StringComparer.Ordinal))}.", missing[0]);
            }

            classes = wanted.Distinct(StringComparer.Ordinal).ToList();
        }
        else
        {
            classes = present.Order(StringComparer.Ordinal).ToList();
        }

        if (classes.Count < 2)
        {
            throw new DeepSentinelException(ErrorIds.ClassNotInTraining, ErrorKind.InvalidData, tooFew(classes));
        }

        return classes;
    }

    /// <summary>
    /// A fresh encoder with the training side's per-band normalisation (from up to 512 of its
    /// patches); fewer than minimumPatches patches with the sensors' data is SensorDataMissing with
    /// tooFew(usable) as the message.
    /// </summary>
    public static async Task<TorchModel> CreateScratchAsync(IReadOnlyList<LabelledSample> train, SensorInput sensors, ScratchEncoder spec, int minimumPatches, Func<int, string> tooFew,
        IOperationReporter reporter, int activity, string title, CancellationToken cancellationToken)
    {
        reporter.Progress(new ProgressUpdate(activity, title, "Computing per-band normalisation statistics of the training split"));
        var (stats, _, usable) = await BandNormalization.ComputeAsync(new SamplePatchSource(train, sensors), sensors, 512, cancellationToken).ConfigureAwait(false);
        if (usable < minimumPatches)
        {
            throw new DeepSentinelException(ErrorIds.SensorDataMissing, ErrorKind.InvalidData, tooFew(usable));
        }

        var (s2, s1) = PretrainingOptions.ChannelsOf(sensors);
        var config = NativeModelConfig.Create();
        config.Encoder = (int)spec.Encoder;
        config.Method = (int)PretrainingMethod.SimClr;
        config.S2Channels = s2;
        config.S1Channels = s1;
        config.EmbeddingDim = spec.EmbeddingDimension;
        config.ProjectionDim = 16;
        config.UNetWidth = spec.UNetWidth;
        config.Device = (int)spec.Device;
        config.Seed = spec.Seed;
        config.LearningRate = spec.LearningRate;
        config.WeightDecay = spec.WeightDecay;
        config.Temperature = 0.2;
        config.TripletMargin = 1;
        var model = TorchModel.Create(config);
        try
        {
            model.SetNormalization(stats);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The encoder's input bands and normalisation for the card: the pretrained model's, or the scratch encoder's own.</summary>
    public static IReadOnlyList<BandCard> BandsOf(TorchModel encoder, EmbeddingModel? pretrained)
    {
        if (pretrained is not null)
        {
            return pretrained.Card.Bands;
        }

        var (mean, std) = encoder.GetNormalization();
        var names = TrainingPatch.S2BandNames.Take(encoder.Config.S2Channels).Concat(TrainingPatch.S1BandNames.Take(encoder.Config.S1Channels)).ToList();
        return names.Select((b, i) => new BandCard(b, i < encoder.Config.S2Channels ? "S2" : "S1", mean[i], std[i])).ToList();
    }

    /// <summary>Writes a card as JSON under a temporary name and renames it into place (ModelWriteFailed when it cannot).</summary>
    public static void WriteCard<T>(string folder, string fileName, T card)
    {
        var path = Path.Combine(folder, fileName);
        try
        {
            File.WriteAllText(path + ".partial", JsonSerializer.Serialize(card, ModelCard.Json));
            File.Move(path + ".partial", path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeepSentinelException(ErrorIds.ModelWriteFailed, ErrorKind.WriteError, $"Cannot write {path}: {ex.Message}", path, ex);
        }
    }

    /// <summary>
    /// Reads the card of a head model folder (a classifier's or a segmentation model's):
    /// ModelNotFound when the folder or the card is missing (missing(folderExists) says so),
    /// ModelFileCorrupt when it is damaged or not a card of its kind (valid), then ModelNotFound
    /// when a checkpoint it names (checkpoints: full paths) is missing.
    /// </summary>
    public static T ReadCard<T>(string folder, string fileName, Func<bool, string> missing, Func<T, bool> valid, string notACard, Func<T, string[]> checkpoints)
        where T : class
    {
        var cardPath = Path.Combine(folder, fileName);
        if (!File.Exists(cardPath))
        {
            throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, missing(Directory.Exists(folder)), folder);
        }

        T? card;
        try
        {
            card = JsonSerializer.Deserialize<T>(File.ReadAllText(cardPath), ModelCard.Json);
        }
        catch (JsonException ex)
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{cardPath} is damaged: {ex.Message}", cardPath, ex);
        }

        if (card is null || !valid(card))
        {
            throw new DeepSentinelException(ErrorIds.ModelFileCorrupt, ErrorKind.InvalidData, $"{cardPath} is not {notACard}.", cardPath);
        }

        foreach (var file in checkpoints(card))
        {
            if (!File.Exists(file))
            {
                throw new DeepSentinelException(ErrorIds.ModelNotFound, ErrorKind.ObjectNotFound, $"The checkpoint {file} named by {cardPath} is missing.", file);
            }
        }

        return card;
    }

    /// <summary>The training side's patches with the sensors the head is fed (for the normalisation statistics).</summary>
    private sealed class SamplePatchSource(IReadOnlyList<LabelledSample> samples, SensorInput sensors) : IPatchSource
    {
        public string Description => "the training split";

        public async IAsyncEnumerable<TrainingPatch> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var sample in samples)
            {
                if (FineTuningService.SelectSensors(await sample.Patch.LoadTrainingPatchAsync(cancellationToken).ConfigureAwait(false), sensors) is { } patch)
                {
                    yield return patch;
                }
            }
        }
    }
}
