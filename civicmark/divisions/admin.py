from django.contrib import admin

from civicmark.divisions import models


@admin.register(models.Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]


admin.site.register(models.CommunityProfile)
admin.site.register(models.LevelLabel)


@admin.register(models.Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "division"]


class MemberInline(admin.TabularInline):
    model = models.WorkingGroupMember
    extra = 0


@admin.register(models.WorkingGroup)
class WorkingGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "division"]
    inlines = [MemberInline]
