-- PostGIS, straightforward: the statement for the stress set's 32 questions, as benchmarks/postgis.py generates it; %(site)s is the site's GeoJSON
WITH s AS MATERIALIZED (SELECT g, g::geography AS gg FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(site)s::text), 4326) AS g) x) SELECT 'admin_district', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM admin_district_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'admin_district', 50.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM admin_district_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 50.0)
UNION ALL
SELECT 'air_key_control_zone', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM air_key_control_zone_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'air_key_control_zone', 50.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM air_key_control_zone_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 50.0)
UNION ALL
SELECT 'basic_farmland', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM basic_farmland_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'basic_farmland', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM basic_farmland_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'built_up_area', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM built_up_area_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'built_up_area', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM built_up_area_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'control_unit', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM control_unit_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'control_unit', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM control_unit_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'eco_redline', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM eco_redline_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'eco_redline', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM eco_redline_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'four_mountains', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM four_mountains_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'four_mountains', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM four_mountains_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'general_eco_space', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM general_eco_space_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'general_eco_space', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM general_eco_space_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'geohazard', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM geohazard_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'geohazard', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM geohazard_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'hitech_zone', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM hitech_zone_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'hitech_zone', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM hitech_zone_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'industrial_park', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM industrial_park_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'industrial_park', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM industrial_park_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'protected_area', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM protected_area_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'protected_area', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM protected_area_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'river', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM river_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'river', 2600.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM river_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 2600.0)
UNION ALL
SELECT 'river', 4600.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM river_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 4600.0)
UNION ALL
SELECT 'river', 6600.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM river_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 6600.0)
UNION ALL
SELECT 'water_source', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM water_source_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'water_source', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM water_source_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0)
UNION ALL
SELECT 'wetland', 0.0, count(DISTINCT f.fid), sum(ST_Area(ST_Intersection(f.geom, s.g)::geography)) FROM wetland_sub f, s WHERE ST_Intersects(f.geom, s.g)
UNION ALL
SELECT 'wetland', 10.0, count(DISTINCT f.fid), min(ST_Distance(f.geom::geography, s.gg)) FROM wetland_sub f, s WHERE ST_DWithin(f.geom::geography, s.gg, 10.0);
