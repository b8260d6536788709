namespace DeepSentinel.Core.Embeddings;

/// <summary>The embedding of one patch.</summary>
/// <param name="SampleId">The patch's sample id.</param>
/// <param name="Modalities">What the model saw: "S2+S1", "S2" or "S1".</param>
/// <param name="Vector">The embedding (for a UNet, the mean of its per-pixel embeddings).</param>
/// <param name="Model">The model folder's name.</param>
public sealed record PatchEmbedding(string SampleId, string Modalities, float[] Vector, string Model)
{
    /// <summary>Length of the vector.</summary>
    public int Dimension => Vector.Length;
}
