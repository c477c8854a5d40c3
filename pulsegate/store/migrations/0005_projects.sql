-- The sites this server takes data for. With none, it takes data from any page (as before).

CREATE TABLE projects (
    name       VARCHAR PRIMARY KEY,
    domains    VARCHAR[] NOT NULL,   -- host names, or *.example.com for any host below it
    created_at TIMESTAMP NOT NULL
);
