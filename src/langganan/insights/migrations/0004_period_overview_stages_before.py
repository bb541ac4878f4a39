"""The overview's data per period (PeriodOverview) and each customer's stage at the start of each
period (CustomerInsight.stages_before), written by the analysis run."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_jobs'),
        ('insights', '0003_live_updated_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='customerinsight',
            name='stages_before',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.CreateModel(
            name='PeriodOverview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_days', models.PositiveSmallIntegerField(choices=[(7, '7'), (30, '30'), (90, '90'), (365, '365')])),
                ('period_start', models.DateTimeField()),
                ('period_end', models.DateTimeField()),
                ('data', models.JSONField(blank=True, default=dict)),
                ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.merchant')),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='overviews', to='insights.insightrun')),
            ],
            options={
                'verbose_name': 'period overview',
                'verbose_name_plural': 'period overviews',
                'indexes': [models.Index(fields=['merchant', 'period_days'], name='insights_pe_merchan_df9f88_idx')],
                'constraints': [models.UniqueConstraint(fields=('run', 'period_days'), name='period_overview_once_per_run'), models.CheckConstraint(condition=models.Q(('period_days__in', [7, 30, 90, 365])), name='period_overview_days_valid')],
            },
        ),
    ]
