# Measure-FewShotClassification in real pwsh: few-shot k-NN and nearest-centroid evaluations of
# frozen embeddings on a generated EuroSAT-style dataset, recomputed by python3-sklearn from the
# files the module wrote (Get-Embedding's .npy, the exported few-shot-samples.csv and
# evaluation.json); -Model and -Embedding agree; a split's held-out classes; bad input with stable
# ids.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModulePath) -Force
    $fixture = Get-TestFixture
    $ProgressPreference = 'SilentlyContinue'
    $script:root = New-TestFolder
    $script:ms = Join-Path $script:root 'ms'
    New-DemoEuroSatDataset $script:ms -Class AnnualCrop, Forest, River, SeaLake -ImagesPerClass 10 -Size 32 -Seed 3 | Out-Null
    $script:model = Import-EmbeddingModel $fixture.Model
    $script:images = Get-LabelledImage $script:ms -PatchSize 32
    $script:npy = Join-Path $script:root 'embeddings.npy'
    $script:embeddings = $script:images | Get-Embedding -Model $script:model -OutFile $script:npy
    $script:reader = Join-Path $PSScriptRoot 'readers' 'fewshot_sklearn.py'
}

AfterAll {
    Remove-Item $script:root -Recurse -Force -ErrorAction SilentlyContinue
    Remove-TestFolder
}

Describe 'Measure-FewShotClassification' {
    It 'gives, for <Method> with k = <K>, the predictions and figures python3-sklearn computes from the written files' -ForEach @(
        @{ Method = 'Knn'; K = 1 }
        @{ Method = 'Knn'; K = 4 }
        @{ Method = 'NearestCentroid'; K = 1 }
    ) {
        $evaluation = $script:images | Measure-FewShotClassification -Embedding $script:embeddings -Method $Method -Neighbours $K -Shots 2 -Episodes 4 -Seed 1
        $evaluation | Should -BeOfType DeepSentinel.Core.Evaluation.FewShotEvaluation
        $evaluation.EpisodeCount | Should -Be 4
        $evaluation.Samples | Should -Be (4 * (40 - 8))
        $folder = Join-Path $script:root "eval-$Method-$K"
        $exported = $evaluation | Export-ClassificationEvaluation $folder -PassThru
        $exported.Path | Should -Be $folder
        $sk = & /usr/bin/python3 $script:reader $script:npy $folder $Method $K | ConvertFrom-Json
        $LASTEXITCODE | Should -Be 0

        $written = Import-Csv (Join-Path $folder 'few-shot-samples.csv')
        @($written | Where-Object role -eq 'support').Count | Should -Be (4 * 8)
        for ($e = 0; $e -lt 4; $e++) {
            $queries = @($written | Where-Object { $_.episode -eq "$e" -and $_.role -eq 'query' })
            $queries.sample_id | Should -Be $sk.episodes[$e].ids
            $queries.predicted | Should -Be $sk.episodes[$e].predicted
            $evaluation.Episodes[$e].Predictions.Predicted | Should -Be $sk.episodes[$e].predicted
        }

        $json = Get-Content (Join-Path $folder 'evaluation.json') -Raw | ConvertFrom-Json
        foreach ($figure in 'overallAccuracy', 'balancedAccuracy', 'macroF1') {
            $snake = ($figure -creplace '([A-Z])', '_$1').ToLowerInvariant()
            [math]::Abs($json.$figure - $sk.$snake) | Should -BeLessThan 1e-12
            [math]::Abs($json.fewShot."mean$($figure.Substring(0, 1).ToUpperInvariant() + $figure.Substring(1))" - $sk."mean_$snake") | Should -BeLessThan 1e-12
            [math]::Abs($json.fewShot."$($figure)Sd" - $sk."sd_$snake") | Should -BeLessThan 1e-12
        }
        $json.fewShot.method | Should -Be $Method
        $json.fewShot.shots | Should -Be 2
    }

    It 'embeds with -Model in batches and gives the same episodes as Get-Embedding''s output' {
        $fromModel = $script:images | Measure-FewShotClassification -Model $script:model -BatchSize 7 -Shots 2 -Episodes 4 -Seed 1 -Method Knn, NearestCentroid
        $fromModel.Count | Should -Be 2
        $fromEmbeddings = $script:images | Measure-FewShotClassification -Embedding $script:embeddings -Shots 2 -Episodes 4 -Seed 1 -Method Knn, NearestCentroid
        for ($m = 0; $m -lt 2; $m++) {
            $fromModel[$m].Embeddings | Should -Be $script:model.Name
            ($fromModel[$m].Predictions() | ForEach-Object { "$($_.Episode) $($_.SampleId) $($_.Predicted)" }) |
                Should -Be ($fromEmbeddings[$m].Predictions() | ForEach-Object { "$($_.Episode) $($_.SampleId) $($_.Predicted)" })
        }
    }

    It 'classifies separable features almost perfectly from two shots each, and the encoder''s embeddings above chance' {
        # The generated classes differ by spectrum by design: each image's 12 band means separate them.
        $plane = 32 * 32
        $bandMeans = foreach ($i in $script:images) {
            $p = $i.Read(); $v = [float[]]::new(12)
            for ($b = 0; $b -lt 12; $b++) { $v[$b] = [Linq.Enumerable]::Average([float[]]$p.S2[($b * $plane)..(($b + 1) * $plane - 1)]) }
            [DeepSentinel.Core.Embeddings.PatchEmbedding]::new($i.SampleId, 'S2', $v, 'band-means')
        }
        foreach ($r in $script:images | Measure-FewShotClassification -Embedding $bandMeans -Shots 2 -Episodes 5 -Seed 2 -Method Knn, NearestCentroid) {
            $r.MeanOverallAccuracy | Should -BeGreaterOrEqual 0.95 -Because "$($r.Method) on separable features"
        }
        # The fixture's encoder is pretrained for one epoch on 16 corpus patches: above chance (0.25), not more is claimed.
        $results = $script:images | Measure-FewShotClassification -Embedding $script:embeddings -Shots 2 -Episodes 5 -Seed 2 -Method Knn, NearestCentroid
        foreach ($r in $results) {
            $r.MeanOverallAccuracy | Should -BeGreaterThan 0.5 -Because "$($r.Method) on the encoder's embeddings"
        }
        # The pooled predictions measured again give the pooled figures.
        $again = $results[0].Predictions() | Measure-Classification
        [math]::Abs($again.BalancedAccuracy - $results[0].BalancedAccuracy) | Should -BeLessThan 1e-12
    }

    It 'takes a split''s held-out classes, from its test side only' {
        $split = $script:images | Split-LabelledCorpus -BlockBy Sample -HoldOutClass River, SeaLake -Seed 1
        $r = $split | Measure-FewShotClassification -Embedding $script:embeddings -Shots 3 -Episodes 2
        $r.Classes | Should -Be 'River', 'SeaLake'
        $r.Episodes[0].SupportIds.Count | Should -Be 6
        $r.Samples | Should -Be (2 * (20 - 6))
        $test = @($split.TestIds)
        foreach ($id in $r.Episodes[0].SupportIds + $r.Episodes[0].Predictions.SampleId) { $id | Should -BeIn $test }
        ($split | Measure-FewShotClassification -Embedding $script:embeddings -Shots 1 -Episodes 1 -Class AnnualCrop, River).Classes | Should -Be 'AnnualCrop', 'River'
    }

    It 'refuses bad input with stable ids: <Name>' -ForEach @(
        @{ Name = 'more shots than a class has'; Id = 'FewShotClassTooSmall'; Script = { $script:images | Measure-FewShotClassification -Model $script:model -Shots 10 } }
        @{ Name = 'a class no sample has'; Id = 'ClassNotInTraining'; Script = { $script:images | Measure-FewShotClassification -Model $script:model -Shots 1 -Class Forest, Tundra } }
        @{ Name = 'one class only'; Id = 'ClassNotInTraining'; Script = { $script:images | Measure-FewShotClassification -Model $script:model -Shots 1 -Class Forest } }
        @{ Name = 'neither -Model nor -Embedding'; Id = 'InvalidParameterValue'; Script = { $script:images | Measure-FewShotClassification -Shots 1 } }
        @{ Name = 'both -Model and -Embedding'; Id = 'InvalidParameterValue'; Script = { $script:images | Measure-FewShotClassification -Model $script:model -Embedding $script:embeddings -Shots 1 } }
        @{ Name = 'embeddings missing for some samples'; Id = 'EvaluationInputInvalid'; Script = { $script:images | Measure-FewShotClassification -Embedding ($script:embeddings | Select-Object -First 5) -Shots 1 } }
        @{ Name = 'k above the support set'; Id = 'InvalidParameterValue'; Script = { $script:images | Measure-FewShotClassification -Embedding $script:embeddings -Shots 1 -Neighbours 5 } }
        @{ Name = 'no labelled sample'; Id = 'EvaluationInputInvalid'; Script = { [DeepSentinel.Core.Training.TrainingPatch]::new('u', 32, 32, [float[]]::new(12 * 32 * 32), $null) | Measure-FewShotClassification -Model $script:model -Shots 1 -WarningAction SilentlyContinue } }
        @{ Name = 'zero shots'; Id = 'ParameterArgumentValidationError'; Script = { $script:images | Measure-FewShotClassification -Model $script:model -Shots 0 } }
    ) {
        $err = $null
        try { & $Script | Out-Null } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $err.Exception.Message | Should -Not -BeNullOrEmpty
    }

    It 'names the classes that are too small and what to do' {
        $err = $null
        try { $script:images | Measure-FewShotClassification -Model $script:model -Shots 10 } catch { $err = $_ }
        $err.Exception.Message | Should -Match 'AnnualCrop has 10 sample\(s\)'
        $err.Exception.Message | Should -Match '-Shots 9 or less'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}
