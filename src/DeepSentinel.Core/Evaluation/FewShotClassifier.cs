namespace DeepSentinel.Core.Evaluation;

/// <summary>
/// The two few-shot classifiers on embeddings, written to give scikit-learn's predictions on the
/// same vectors. Class indices are positions in the evaluation's class list, which is in ordinal
/// order of the class keys, as scikit-learn's <c>classes_</c> (numpy.unique) is for string labels.
/// <list type="bullet">
/// <item>k-NN (<c>KNeighborsClassifier(n_neighbors=k, metric='cosine')</c>, uniform weights): the
/// cosine distance is 1 minus the dot product of the L2-normalised vectors (a zero vector is at
/// distance 1 from everything, as scikit-learn's <c>normalize</c> leaves it zero); the k nearest
/// support samples vote once each, and a tie in votes goes to the class that comes first (scipy's
/// mode returns the smallest). Exact ties in distance at the k-th place are broken by support order;
/// scikit-learn leaves their order unspecified (argpartition), so only then may the two differ.</item>
/// <item>Nearest centroid (<c>NearestCentroid(metric='cosine')</c> fitted on the L2-normalised
/// support vectors): each class's centroid is the mean of its normalised support vectors, a query
/// goes to the class of the centroid at the smallest cosine distance, the first class on a tie.</item>
/// </list>
/// </summary>
public static class FewShotClassifier
{
    /// <summary>k-NN by cosine distance; returns a class index per query.</summary>
    public static int[] PredictKnn(IReadOnlyList<float[]> support, IReadOnlyList<int> supportClass, int classes, IReadOnlyList<float[]> queries, int neighbours)
    {
        ArgumentNullException.ThrowIfNull(support);
        ArgumentNullException.ThrowIfNull(supportClass);
        ArgumentNullException.ThrowIfNull(queries);
        if (neighbours < 1 || neighbours > support.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(neighbours), neighbours, $"k must be 1-{support.Count} (the support set's size).");
        }

        var s = support.Select(v => Normalise(v)).ToArray();
        var predictions = new int[queries.Count];
        var distances = new double[s.Length];
        var order = new int[s.Length];
        var votes = new int[classes];
        for (var q = 0; q < queries.Count; q++)
        {
            var query = Normalise(queries[q]);
            for (var i = 0; i < s.Length; i++)
            {
                distances[i] = CosineDistance(query, s[i]);
                order[i] = i;
            }

            // Nearest first; equal distances in support order (a stable sort on the index).
            Array.Sort(order, (a, b) => distances[a] != distances[b] ? distances[a].CompareTo(distances[b]) : a.CompareTo(b));
            Array.Clear(votes);
            for (var n = 0; n < neighbours; n++)
            {
                votes[supportClass[order[n]]]++;
            }

            predictions[q] = FirstMax(votes);
        }

        return predictions;
    }

    /// <summary>Nearest centroid of the normalised support vectors by cosine distance; returns a class index per query.</summary>
    public static int[] PredictNearestCentroid(IReadOnlyList<float[]> support, IReadOnlyList<int> supportClass, int classes, IReadOnlyList<float[]> queries)
    {
        ArgumentNullException.ThrowIfNull(support);
        ArgumentNullException.ThrowIfNull(supportClass);
        ArgumentNullException.ThrowIfNull(queries);
        var dimension = support.Count == 0 ? 0 : support[0].Length;
        var centroids = new double[classes][];
        var counts = new int[classes];
        for (var c = 0; c < classes; c++)
        {
            centroids[c] = new double[dimension];
        }

        for (var i = 0; i < support.Count; i++)
        {
            var v = Normalise(support[i]);
            var centroid = centroids[supportClass[i]];
            for (var d = 0; d < dimension; d++)
            {
                centroid[d] += v[d];
            }

            counts[supportClass[i]]++;
        }

        for (var c = 0; c < classes; c++)
        {
            if (counts[c] == 0)
            {
                throw new ArgumentException($"Class index {c} has no support sample.", nameof(supportClass));
            }

            for (var d = 0; d < dimension; d++)
            {
                centroids[c][d] /= counts[c];
            }

            centroids[c] = Normalise(centroids[c]);
        }

        var predictions = new int[queries.Count];
        for (var q = 0; q < queries.Count; q++)
        {
            var query = Normalise(queries[q]);
            var best = 0;
            var bestDistance = double.PositiveInfinity;
            for (var c = 0; c < classes; c++)
            {
                var distance = CosineDistance(query, centroids[c]);
                if (distance < bestDistance)
                {
                    best = c;
                    bestDistance = distance;
                }
            }

            predictions[q] = best;
        }

        return predictions;
    }

    internal static double[] Normalise(float[] vector) => Normalise(Array.ConvertAll(vector, v => (double)v));

    private static double[] Normalise(double[] vector)
    {
        double norm = 0;
        foreach (var v in vector)
        {
            norm += v * v;
        }

        norm = Math.Sqrt(norm);
        if (norm == 0)
        {
            return vector;
        }

        var result = new double[vector.Length];
        for (var i = 0; i < vector.Length; i++)
        {
            result[i] = vector[i] / norm;
        }

        return result;
    }

    // 1 - cos on normalised vectors, clipped to [0, 2] as scikit-learn's cosine_distances.
    private static double CosineDistance(double[] a, double[] b)
    {
        double dot = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
        }

        return Math.Clamp(1 - dot, 0, 2);
    }

    private static int FirstMax(int[] votes)
    {
        var best = 0;
        for (var c = 1; c < votes.Length; c++)
        {
            if (votes[c] > votes[best])
            {
                best = c;
            }
        }

        return best;
    }
}
