-- a copied database must neither answer LINE nor send anything with production credentials
UPDATE line_channel
   SET active = false,
       channel_secret = NULL,
       access_token = NULL,
       login_channel_secret = NULL;
