using System.Management.Automation;
using DeepSentinel.Core.SuperResolution;

namespace DeepSentinel.Cmdlets.Infrastructure;

/// <summary>Lets -Model take a model folder's path as well as a <see cref="SuperResolutionModel"/>.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SuperResolutionModelTransformationAttribute : ArgumentTransformationAttribute
{
    /// <inheritdoc />
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        ArgumentNullException.ThrowIfNull(engineIntrinsics);
        object One(object? value) => (value is PSObject ps ? ps.BaseObject : value) switch
        {
            SuperResolutionModel model => model,
            string path => SuperResolutionModel.Import(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path)),
            System.IO.DirectoryInfo directory => SuperResolutionModel.Import(directory.FullName),
            var other => other!,
        };

        var data = inputData is PSObject wrapper ? wrapper.BaseObject : inputData;
        try
        {
            return data is object[] array ? array.Select(One).ToArray() : One(data);
        }
        catch (Core.Errors.DeepSentinelException ex)
        {
            // Said while the parameter binds: the reason (no model card, a damaged one) is kept.
            throw new ArgumentTransformationMetadataException($"{ex.ErrorId}: {ex.Message}", ex);
        }
    }
}
