using DeepSentinel.Core.Errors;

namespace DeepSentinel.Core.Storage;

/// <summary>The rules every store applies to keys, so a corpus that is valid in one store is valid in all.</summary>
public static class ObjectKey
{
    /// <summary>Returns <paramref name="key"/> when it is '/'-separated, relative, with no empty, '.' or '..' parts and no '\'.</summary>
    /// <exception cref="DeepSentinelException"><see cref="ErrorIds.InvalidParameterValue"/> otherwise.</exception>
    public static string Validate(string key)
    {
        if (string.IsNullOrEmpty(key) || key.StartsWith('/') || key.Contains('\\') || key.Split('/').Any(p => p is "" or "." or ".."))
        {
            throw DeepSentinelException.InvalidArgument(ErrorIds.InvalidParameterValue, $"'{key}' is not a valid object key ('/'-separated, relative, no empty, '.' or '..' parts).", key);
        }

        return key;
    }
}
