# A secret scan: cmdlets run with an Azure account key, a SAS token, a connection string, a GCS
# service-account key and a Planetary Computer subscription key, with -Verbose and -Debug,
# against a real Azurite on loopback; every stream, every error record (Format-List * -Force,
# Get-Error, TargetObject, inner exceptions), every output object's properties and ToString, and
# every file written are searched for the secrets. The scanner first proves it finds a planted one.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'

    # Azurite, as the xunit storage tests start it (tests/tools, installed by ./build.sh test).
    $tools = Join-Path $PSScriptRoot '..' 'tools'
    $info = [Diagnostics.ProcessStartInfo]::new('node')
    foreach ($a in (Join-Path $tools 'node_modules' 'azurite' 'dist' 'src' 'blob' 'main.js'), '--blobHost', '127.0.0.1', '--blobPort', '0', '--inMemoryPersistence', '--silent', '--disableTelemetry', '--skipApiVersionCheck') { $info.ArgumentList.Add($a) }
    $info.RedirectStandardOutput = $true
    $info.WorkingDirectory = (New-TestFolder)
    $azurite = [Diagnostics.Process]::Start($info)
    $deadline = [DateTime]::UtcNow.AddSeconds(60)
    $endpoint = $null
    while (-not $endpoint -and [DateTime]::UtcNow -lt $deadline) {
        $line = $azurite.StandardOutput.ReadLine()
        if ($line -match 'listens on (http://127\.0\.0\.1:\d+)') { $endpoint = $Matches[1] }
    }

    # The secrets. Azurite's development key is public but is handled here as a secret; the others
    # are made up and must be found nowhere.
    $accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
    $wrongKey = [Convert]::ToBase64String([Text.Encoding]::ASCII.GetBytes('wrong-key-0123456789-wrong-key-0123456789-abcdef'))
    $sas = 'sv=2024-11-04&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=FAKESASSIGNATURE0123456789abcdef%3D'
    $subscriptionKey = 'pcsubkey-0123456789abcdef0123456789'
    $privateKey = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCfakeprivatekeymaterial'
    $secrets = @($accountKey, $wrongKey, 'FAKESASSIGNATURE0123456789abcdef', $subscriptionKey, $privateKey)

    function Find-Secret([string] $Text) { @($secrets | Where-Object { $Text.Contains($_) }) }

    # Everything a run produced, as one text: streams, error records in every form, objects.
    function Get-RunText($Run) {
        $parts = foreach ($record in $Run.Errors) {
            $record | Format-List * -Force | Out-String
            $record.Exception | Format-List * -Force | Out-String
            $record | Get-Error | Out-String
            "$($record.TargetObject) $($record.CategoryInfo.TargetName)"
            $e = $record.Exception; while ($e) { $e.ToString(); $e = $e.InnerException }
        }
        $parts += $Run.Streams | ForEach-Object { "$_" }
        $parts += foreach ($o in $Run.Output) { $o.ToString(); $o | Format-List * -Force | Out-String; $o | ConvertTo-Json -Depth 4 -WarningAction SilentlyContinue }
        $parts -join "`n"
    }

    # Runs a script block with -Verbose and -Debug preferences on, collecting every stream.
    function Invoke-Scanned([scriptblock] $Script) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("`$VerbosePreference = 'Continue'; `$DebugPreference = 'Continue'; `$InformationPreference = 'Continue'; `$ProgressPreference = 'SilentlyContinue'; Import-Module '$(Get-ModulePath)'").AddStatement()
        $null = $ps.AddScript($Script.ToString())
        foreach ($name in 'endpoint', 'accountKey', 'wrongKey', 'sas', 'subscriptionKey', 'privateKey', 'fixture', 'work') {
            $null = $ps.Runspace.SessionStateProxy.SetVariable($name, (Get-Variable $name -ValueOnly -ErrorAction SilentlyContinue))
        }
        $output = try { $ps.Invoke() } catch { $ps.Streams.Error.Add($_.Exception.ErrorRecord) }
        $errors = @($ps.Streams.Error) + @($ps.Runspace.SessionStateProxy.GetVariable('Error'))
        $streams = @($ps.Streams.Verbose) + @($ps.Streams.Debug) + @($ps.Streams.Warning) + @($ps.Streams.Information) + @($ps.Streams.Progress)
        $ps.Dispose()
        [pscustomobject]@{ Output = @($output); Errors = @($errors | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }); Streams = $streams }
    }
}

AfterAll {
    if ($azurite -and -not $azurite.HasExited) { $azurite.Kill($true) }
    Remove-TestFolder
}

Describe 'Secrets stay out of output, errors, logs and files' {
    It 'the scanner finds a planted secret (so its silence means something)' {
        $run = Invoke-Scanned { Write-Verbose "planted $accountKey"; Write-Error "planted $subscriptionKey" }
        @(Find-Secret (Get-RunText $run)).Count | Should -Be 2
    }

    It 'Azure: a corpus copied with an account key, a connection string and a SAS, and a wrong key' {
        $endpoint | Should -Not -BeNullOrEmpty -Because 'Azurite must be running'
        $work = New-TestFolder
        $run = Invoke-Scanned {
            $key = ConvertTo-SecureString $accountKey -AsPlainText -Force
            $location = "$endpoint/devstoreaccount1/secrets/corpus"
            Copy-Corpus $fixture.Corpus $location -AzureAccountKey $key -Verbose -Debug
            Get-PatchSample $location -AzureAccountKey $key -Verbose | Select-Object -First 2
            $connection = ConvertTo-SecureString "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$accountKey;BlobEndpoint=$endpoint/devstoreaccount1/" -AsPlainText -Force
            Copy-Corpus $location (Join-Path $work 'back') -AzureConnectionString $connection -Verbose -Debug
            $wrong = ConvertTo-SecureString $wrongKey -AsPlainText -Force
            Get-PatchSample $location -AzureAccountKey $wrong -Verbose -Debug
            $badSas = ConvertTo-SecureString $sas -AsPlainText -Force
            Get-PatchSample $location -AzureSasToken $badSas -Verbose -Debug
            Get-PatchSample "$location`?$sas" -Verbose -Debug
        }
        $run.Errors.Count | Should -BeGreaterOrEqual 2 -Because 'the wrong key and the bad SAS are refused'
        $text = Get-RunText $run
        $text | Should -Match 'StorageAccessDenied|StorageRequestFailed'
        Find-Secret $text | Should -BeNullOrEmpty
        (Get-PatchSample (Join-Path $work 'back')).Count | Should -Be 16
        foreach ($file in Get-ChildItem $work -Recurse -File) {
            Find-Secret ([IO.File]::ReadAllText($file.FullName)) | Should -BeNullOrEmpty -Because $file.FullName
        }
    }

    It 'Google: a service-account key file that cannot be used names the file, never its key' {
        $work = New-TestFolder
        $keyFile = Join-Path $work 'sa.json'
        @{ type = 'service_account'; project_id = 'p'; private_key_id = 'abc'; private_key = "-----BEGIN PRIVATE KEY-----`n$privateKey`n-----END PRIVATE KEY-----`n"; client_email = 'x@p.iam.gserviceaccount.com'; token_uri = 'http://127.0.0.1:1/token' } | ConvertTo-Json | Set-Content $keyFile
        $run = Invoke-Scanned { Get-PatchSample gs://bucket/corpus -GcsKeyFile (Join-Path $work 'sa.json') -Verbose -Debug }
        $run.Errors.Count | Should -BeGreaterOrEqual 1
        Find-Secret (Get-RunText $run) | Should -BeNullOrEmpty
    }

    It 'Planetary Computer: a subscription key, given as a parameter and in the environment' {
        $run = Invoke-Scanned {
            $env:PC_SDK_SUBSCRIPTION_KEY = $subscriptionKey
            Get-SentinelScene -StacUrl "http://127.0.0.1:1/api?subscription-key=$subscriptionKey" -Collection c -TimeoutSec 5 -SubscriptionKey (ConvertTo-SecureString $subscriptionKey -AsPlainText -Force) -Verbose -Debug
        }
        $run.Errors.Count | Should -BeGreaterOrEqual 1
        Find-Secret (Get-RunText $run) | Should -BeNullOrEmpty
    }
}
